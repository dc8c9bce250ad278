"""Commands and results of the engagement use cases: the request and response bodies.

    templates      TemplateIn → TemplatePublic, TemplatesPublic; PreviewIn → PreviewPublic
    triggers       TriggerIn (ConditionsIn, ActionsIn) → TriggerPublic, TriggersPublic
    campaigns      CampaignIn → CampaignPublic, CampaignsPublic, CampaignResults
    policy         PolicyIn → PolicyPublic
    suppressions   SuppressionIn → SuppressionPublic, SuppressionsPublic; DeliveryReportIn
    messages       MessagePublic, MessagesPublic, CustomerEngagement (customer 360)

Every constraint is a pydantic constraint, so the OpenAPI document states it. Percentages
are decimal strings (``"10"``, ``"12.5"``) between 0 and 50.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from relacja_servicekit.models import RowModel
from relacja_servicekit.types import JsonInteger, StrictBool, Timestamp, not_space

from ..domain.triggers import TriggerEvent

__all__ = [
    "ActionsIn",
    "CampaignIn",
    "CampaignPublic",
    "CampaignResults",
    "CampaignsPublic",
    "Channel",
    "ConditionsIn",
    "CustomerEngagement",
    "DeliveryReportIn",
    "DeliveryReportPublic",
    "GroupResult",
    "IntervalPublic",
    "MessagePublic",
    "MessageStatus",
    "MessagesPublic",
    "PolicyIn",
    "PolicyPublic",
    "PreviewIn",
    "PreviewPublic",
    "Purpose",
    "SuppressionIn",
    "SuppressionPublic",
    "SuppressionsPublic",
    "TemplateIn",
    "TemplatePublic",
    "TemplatesPublic",
    "TriggerIn",
    "TriggerPublic",
    "TriggersPublic",
    "VariantIn",
]

Channel = Literal["email", "sms", "push"]
Purpose = Literal["marketing", "transactional"]
MessageStatus = Literal["scheduled", "deferred", "suppressed", "sent", "failed", "bounced", "held_out"]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Language = Annotated[str, Field(min_length=2, max_length=35, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]

_PERCENT = r"^(50(\.0{1,2})?|[1-4]?[0-9](\.[0-9]{1,2})?)$"


def _percent(value: Any) -> Any:
    if isinstance(value, Decimal) or (isinstance(value, str) and re.match(_PERCENT, value)):
        return value
    raise ValueError("must be a decimal string between 0 and 50, e.g. '10'")


#: 0–50 % with up to two decimals, as text.
Percent = Annotated[
    Decimal, BeforeValidator(_percent), WithJsonSchema({"type": "string", "pattern": _PERCENT, "examples": ["10"]})
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Templates


class VariantIn(_Strict):
    language: Language = Field(description="BCP 47, e.g. pl or en-GB (each language once)")
    subject: Annotated[str, Field(min_length=1, max_length=500)] | None = Field(
        default=None, description="E-mail only (required there): the subject line, a template too"
    )
    body: Annotated[str, Field(min_length=1, max_length=100_000)] = Field(description="The body (Jinja2, sandboxed)")


class TemplateIn(_Strict):
    name: Name
    channel: Channel
    purpose: Purpose = Field(description="marketing needs consent, counts against caps, waits out quiet hours")
    fallback_language: Language = Field(description="Used when the customer's language has no variant")
    variants: list[VariantIn] = Field(min_length=1, max_length=50, description="One per language")


class TemplatePublic(RowModel):
    id: uuid.UUID
    name: str
    channel: Channel
    purpose: Purpose
    fallback_language: str
    variants: list[VariantIn]
    version: int
    created_at: datetime
    updated_at: datetime


class TemplatesPublic(BaseModel):
    items: list[TemplatePublic]
    next_cursor: str | None


class PreviewIn(_Strict):
    customer_id: uuid.UUID | None = Field(default=None, description="Render with this customer's fields (else samples)")
    language: Language | None = Field(default=None, description="Default: the customer's, then the fallback")
    coupon_code: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    event: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=500)]] | None = Field(
        default=None, max_length=20, description="Event variables (default: samples)"
    )


class PreviewPublic(BaseModel):
    language: str
    subject: str | None
    body: str


# Triggers


class ConditionsIn(_Strict):
    segment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50, description="Member of any of them")
    loyalty_tiers: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(default_factory=list, max_length=20)
    lifecycle_stages: list[Literal["lead", "prospect", "customer", "inactive"]] = Field(
        default_factory=list, max_length=4
    )
    tags_any: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list, max_length=50)
    important_date_kinds: list[
        Literal["birthday", "name_day", "purchase_anniversary", "contract_anniversary", "custom"]
    ] = Field(default_factory=list, max_length=5, description="important_date.upcoming only")
    risk_tiers: list[Literal["low", "medium", "high"]] = Field(
        default_factory=list, max_length=3, description="churn.risk_tier_changed only: the tier it changed to"
    )
    loyalty_tiers_to: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(
        default_factory=list, max_length=20, description="loyalty.tier_changed only: the tier it changed to"
    )
    first_order: StrictBool = Field(default=False, description="order.paid / order.delivered only: the first order")


class ActionsIn(_Strict):
    coupon_offer_id: uuid.UUID | None = Field(
        default=None, description="Ask the loyalty service for a personal coupon of this offer (variable coupon_code)"
    )
    request_review: StrictBool = Field(default=False, description="Create a review request (variable review_url)")


class TriggerIn(_Strict):
    name: Name
    event: TriggerEvent
    conditions: ConditionsIn = Field(default_factory=ConditionsIn)
    delay_seconds: Annotated[int, Field(ge=0, le=366 * 86400), JsonInteger] = Field(
        default=0, description="After the event, e.g. 604800 for 7 days"
    )
    channel: Channel
    template_id: uuid.UUID
    actions: ActionsIn = Field(default_factory=ActionsIn)
    holdout_percent: Percent = Field(default=Decimal("0"), description="Control share that receives nothing (0–50)")
    enabled: StrictBool = False


class TriggerPublic(BaseModel):
    id: uuid.UUID
    name: str
    ready_made: str | None
    event: TriggerEvent
    conditions: ConditionsIn
    delay_seconds: int
    channel: Channel
    template_id: uuid.UUID | None
    actions: ActionsIn
    holdout_percent: str
    enabled: bool
    version: int
    created_at: datetime
    updated_at: datetime


class TriggersPublic(BaseModel):
    items: list[TriggerPublic]
    next_cursor: str | None


# Campaigns


class CampaignIn(_Strict):
    name: Name
    segment_id: uuid.UUID
    template_id: uuid.UUID
    holdout_percent: Percent = Field(default=Decimal("10"), description="Control share that receives nothing (0–50)")
    send_at: Timestamp | None = Field(default=None, description="When to send (default: now)")
    coupon_offer_id: uuid.UUID | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = Field(
        default="PLN", description="The uplift report counts revenue of orders in this currency"
    )


class CampaignPublic(BaseModel):
    id: uuid.UUID
    name: str
    segment_id: uuid.UUID
    template_id: uuid.UUID
    channel: Channel
    purpose: Purpose
    holdout_percent: str
    send_at: datetime
    coupon_offer_id: uuid.UUID | None
    currency: str
    status: Literal["planned", "cancelled"]
    audience_size: int
    planned: dict[str, int] = Field(description="Messages by status right after planning (scheduled, held_out, ...)")
    version: int
    created_at: datetime
    updated_at: datetime


class CampaignsPublic(BaseModel):
    items: list[CampaignPublic]
    next_cursor: str | None


class IntervalPublic(BaseModel):
    estimate: float
    low: float
    high: float


class GroupResult(BaseModel):
    customers: int
    converted: int
    conversion_rate: float | None
    revenue: str = Field(description="Revenue of the group's orders in the window (decimal string)")
    revenue_per_customer: float | None


class CampaignResults(BaseModel):
    campaign_id: uuid.UUID
    by_status: dict[str, int]
    suppressed_by_reason: dict[str, int]
    deferred_now: int = Field(description="Messages waiting out quiet hours at this moment")
    coupons_issued: int
    coupons_redeemed: int
    window_days: int
    window_ends_at: datetime
    treated: GroupResult
    control: GroupResult
    confidence: float
    conversion_uplift: IntervalPublic | None = Field(description="Treated − control conversion rate")
    revenue_per_customer_uplift: IntervalPublic | None = Field(description="Treated − control revenue per customer")


# Policy


#: A wall-clock time of day, HH:MM or HH:MM:SS (no offset: it is the customer's local time).
LocalTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$", examples=["21:00"])]


class QuietHoursIn(_Strict):
    start: LocalTime = Field(description="Local time, e.g. 21:00")
    end: LocalTime = Field(description="Local time, e.g. 08:00 (before start: the window crosses midnight)")

    def times(self) -> tuple[time, time]:
        return time.fromisoformat(self.start), time.fromisoformat(self.end)


class CapIn(_Strict):
    channel: Channel
    max_messages: Annotated[int, Field(ge=0, le=1000), JsonInteger]
    window_days: Annotated[int, Field(ge=1, le=365), JsonInteger]


class PolicyIn(_Strict):
    quiet_hours: QuietHoursIn | None = Field(description="In the customer's time zone; null: none")
    caps: list[CapIn] = Field(max_length=3, description="Marketing messages per channel and window")


class PolicyPublic(BaseModel):
    quiet_hours: QuietHoursIn | None
    caps: list[CapIn]
    version: int
    updated_at: datetime


# Suppressions and delivery reports


class SuppressionIn(_Strict):
    channel: Channel
    address: Annotated[
        str,
        Field(min_length=3, max_length=320, pattern=rf"^(\+[1-9][0-9]{{6,14}}|{not_space('@')}+@{not_space('@')}+)$"),
    ] = Field(description="An e-mail address or an E.164 phone number")
    note: Annotated[str, Field(max_length=1000)] | None = None


class SuppressionPublic(RowModel):
    channel: Channel
    address: str
    reason: Literal["hard_bounce", "complaint", "manual"]
    customer_id: uuid.UUID | None
    note: str | None
    created_at: datetime


class SuppressionsPublic(BaseModel):
    items: list[SuppressionPublic]
    next_cursor: str | None


class DeliveryReportIn(_Strict):
    # One of the two ids names the message; the schema says so with anyOf.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"anyOf": [{"required": ["message_id"]}, {"required": ["provider_message_id"]}]},
    )

    message_id: uuid.UUID | None = Field(default=None, description="The message (or provider_message_id)")
    provider_message_id: Annotated[str, Field(min_length=1, max_length=500)] | None = Field(
        default=None, description="The Message-ID header / webhook id the message went out with"
    )
    kind: Literal["hard_bounce", "soft_bounce", "complaint"]
    detail: Annotated[str, Field(max_length=2000)] | None = None


class DeliveryReportPublic(BaseModel):
    message_id: uuid.UUID
    status: MessageStatus
    suppressed_address: bool


# Messages


class MessagePublic(RowModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    channel: Channel
    purpose: Purpose
    template_id: uuid.UUID | None
    trigger_id: uuid.UUID | None
    campaign_id: uuid.UUID | None
    status: MessageStatus
    reason: str | None
    due_at: datetime
    attempts: int
    coupon_code: str | None
    sent_at: datetime | None
    created_at: datetime
    updated_at: datetime


class MessagesPublic(BaseModel):
    items: list[MessagePublic]
    next_cursor: str | None


class CustomerEngagement(BaseModel):
    """The engagement part of the gateway's customer 360 view."""

    customer_id: uuid.UUID
    messages_by_status: dict[str, int]
    last_sent_at: datetime | None
    consents: dict[str, bool] = Field(description="Marketing consents as this service last heard of them")
    suppressed_channels: list[Channel]
    recent: list[MessagePublic] = Field(description="The 5 newest messages")
