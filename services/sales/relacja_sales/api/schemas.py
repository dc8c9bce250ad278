"""Request and response models of the sales API (money as decimal strings, RFC 3339 times).

Requests refuse unknown fields (``extra="forbid"``): a loss reason sent with ``win`` is a
mistake the client should hear about (422 naming ``body.loss_reason``), not a field ignored.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from relacja_contracts.events.sales import ActivityKind, DealSource, OpportunityStatus
from relacja_contracts.money import Amount, CurrencyCode
from relacja_servicekit.types import Day, JsonInteger, StrictBool, Timestamp

__all__ = [
    "StageCreate",
    "StageEdit",
    "PipelineCreate",
    "PipelineUpdate",
    "StagePublic",
    "PipelinePublic",
    "PipelinesPublic",
    "LossReasonCreate",
    "LossReasonPublic",
    "LossReasonsPublic",
    "ExchangeRateSet",
    "ExchangeRatePublic",
    "ExchangeRatesPublic",
    "Contact",
    "LineItemIn",
    "OpportunityCreate",
    "OpportunityUpdate",
    "OpportunityPublic",
    "OpportunitiesPublic",
    "MoveBody",
    "WinBody",
    "LoseBody",
    "StageChangePublic",
    "StageHistoryPublic",
    "BoardColumnPublic",
    "BoardPublic",
    "CurrencyAmount",
    "LeadPublic",
    "LeadsPublic",
    "LeadAssign",
    "LeadConvert",
    "ConversionPublic",
    "ActivityCreate",
    "ActivityUpdate",
    "ActivityPublic",
    "ActivitiesPublic",
    "ForecastFigures",
    "ForecastGroup",
    "ForecastPublic",
    "StageReport",
    "LossReasonCount",
    "PipelineReportPublic",
    "CustomerSalesPublic",
    "Name",
    "Ident",
]


def _decimal_text(pattern: str, example: str) -> tuple[BeforeValidator, WithJsonSchema]:
    """A decimal given as text matching ``pattern`` (pydantic's Decimal would also take numbers,
    exponents and blanks the schema does not allow)."""
    matches = re.compile(pattern).match

    def check(value: Any) -> Any:
        if isinstance(value, Decimal) or (isinstance(value, str) and matches(value)):
            return value
        raise ValueError(f"must be a non-negative decimal string such as {example!r}")

    return BeforeValidator(check), WithJsonSchema({"type": "string", "pattern": pattern, "examples": [example]})


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a time zone offset (RFC 3339)")
    return value


# numeric(18, 2): 16 integer digits, cents. Negative amounts do not match (422 naming the field).
Money = Annotated[Decimal, *_decimal_text(r"^[0-9]{1,16}(\.[0-9]{1,2})?$", "12500.00")]
Rate = Annotated[Decimal, *_decimal_text(r"^[0-9]{1,10}(\.[0-9]{1,8})?$", "4.2750")]
AwareTime = Annotated[Timestamp, AfterValidator(_aware)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Ident = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$", examples=["rep-anna"])]
Probability = Annotated[int, Field(ge=0, le=100), JsonInteger]

_STRICT = ConfigDict(extra="forbid")


# Pipelines


class StageCreate(BaseModel):
    model_config = _STRICT
    name: Name
    probability: Probability
    is_won: StrictBool = False
    is_closed: StrictBool = False


class StageEdit(StageCreate):
    id: uuid.UUID | None = Field(default=None, description="An existing stage to keep; none: a new stage")


class PipelineCreate(BaseModel):
    model_config = _STRICT
    name: Name
    late_reminders_allowed: StrictBool = Field(
        default=False, description="May activities of its deals remind after their due time"
    )
    stages: list[StageCreate] = Field(min_length=3, max_length=30, description="In order; see docs/sales.md")


class PipelineUpdate(BaseModel):
    model_config = _STRICT
    # Absent: unchanged; null is refused (the schema has no null), as for every field here.
    name: Name = None  # type: ignore[assignment]
    late_reminders_allowed: StrictBool = None  # type: ignore[assignment]
    stages: list[StageEdit] = Field(
        default=None,  # type: ignore[arg-type]
        min_length=3,
        max_length=30,
        description="The whole new list; stages left out are retired",
    )


class StagePublic(BaseModel):
    id: uuid.UUID
    name: str
    position: int
    probability: int
    is_won: bool
    is_closed: bool
    active: bool = Field(description="False: retired (kept for the history of deals that passed through it)")


class PipelinePublic(BaseModel):
    id: uuid.UUID
    name: str
    late_reminders_allowed: bool
    version: int
    stages: list[StagePublic]
    created_at: datetime
    updated_at: datetime


class PipelinesPublic(BaseModel):
    items: list[PipelinePublic]


class LossReasonCreate(BaseModel):
    model_config = _STRICT
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$", examples=["price_too_high"])
    label: Name


class LossReasonPublic(BaseModel):
    code: str
    label: str
    active: bool


class LossReasonsPublic(BaseModel):
    items: list[LossReasonPublic]


class ExchangeRateSet(BaseModel):
    model_config = _STRICT
    currency: CurrencyCode
    valid_from: Day
    rate: Rate = Field(description="Units of the reporting currency per unit of `currency`, from `valid_from` on")


class ExchangeRatePublic(BaseModel):
    currency: str
    valid_from: date
    rate: Amount


class ExchangeRatesPublic(BaseModel):
    reporting_currency: str
    items: list[ExchangeRatePublic]


# Opportunities


class Contact(BaseModel):
    model_config = _STRICT
    customer_id: uuid.UUID
    role: Annotated[str, Field(min_length=1, max_length=100, examples=["decision_maker"])]


class LineItemIn(BaseModel):
    model_config = _STRICT
    product_id: uuid.UUID = Field(description="A product of the orders catalogue")
    quantity: Annotated[int, Field(ge=1, le=1_000_000), JsonInteger]
    unit_price: Money
    discount_amount: Money = Field(default=Decimal("0"), description="Discount on the whole line")


class _DealFields(BaseModel):
    model_config = _STRICT
    name: Name | None = None
    owner_id: Ident | None = Field(default=None, description="Default: the caller")
    team: Ident | None = Field(default=None, description="Default: the caller's team")
    amount: Money
    currency: CurrencyCode
    expected_close_date: Day | None = Field(default=None, description="Not before today")
    contacts: list[Contact] = Field(default_factory=list, max_length=20)
    line_items: list[LineItemIn] = Field(default_factory=list, max_length=100)
    next_step: Annotated[str, Field(max_length=500)] | None = None


class OpportunityCreate(_DealFields):
    customer_id: uuid.UUID = Field(description="The customer (person or company)")
    pipeline_id: uuid.UUID
    stage_id: uuid.UUID | None = Field(default=None, description="An open stage of the pipeline; default: its first")
    source: DealSource = "manual"


class OpportunityUpdate(BaseModel):
    """Absent: unchanged. ``name``, ``team``, ``expected_close_date`` and ``next_step`` may be
    cleared with null; the other fields cannot be null (the schema says so)."""

    model_config = _STRICT
    name: Name | None = None
    owner_id: Ident = None  # type: ignore[assignment]
    team: Ident | None = None
    amount: Money = None  # type: ignore[assignment]
    currency: CurrencyCode = None  # type: ignore[assignment]
    expected_close_date: Day | None = None
    contacts: list[Contact] = Field(default=None, max_length=20)  # type: ignore[arg-type]
    line_items: list[LineItemIn] = Field(default=None, max_length=100)  # type: ignore[arg-type]
    next_step: Annotated[str, Field(max_length=500)] | None = None
    source: DealSource = None  # type: ignore[assignment]


class OpportunityPublic(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    name: str | None
    owner_id: str
    team: str | None
    pipeline_id: uuid.UUID
    stage_id: uuid.UUID
    probability: int
    status: OpportunityStatus
    amount: Amount
    currency: str
    expected_close_date: date | None
    source: str
    contacts: list[dict[str, Any]]
    line_items: list[dict[str, Any]]
    next_step: str | None
    loss_reason: str | None
    stage_entered_at: datetime
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    version: int
    allowed_actions: list[str]


class OpportunitiesPublic(BaseModel):
    items: list[OpportunityPublic]
    next_cursor: str | None


class MoveBody(BaseModel):
    model_config = _STRICT
    stage_id: uuid.UUID = Field(description="An open stage of the deal's pipeline")


class WinBody(BaseModel):
    model_config = _STRICT
    draft_order: StrictBool = Field(
        default=False, description="Ask the orders service for a draft order with the line items"
    )


class LoseBody(BaseModel):
    model_config = _STRICT
    loss_reason: Annotated[str, Field(min_length=1, max_length=63)] = Field(
        description="The code of a managed loss reason"
    )
    stage_id: uuid.UUID | None = Field(default=None, description="A lost stage of the pipeline; default: the first")


class StageChangePublic(BaseModel):
    from_stage_id: uuid.UUID | None
    from_stage_name: str | None
    to_stage_id: uuid.UUID
    to_stage_name: str
    probability: int
    changed_by: str | None
    changed_at: datetime
    left_at: datetime | None
    seconds_in_stage: int | None = Field(description="left_at − changed_at; null while the deal is still there")


class StageHistoryPublic(BaseModel):
    opportunity_id: uuid.UUID
    items: list[StageChangePublic]


class CurrencyAmount(BaseModel):
    currency: str
    amount: Amount


class BoardColumnPublic(BaseModel):
    stage: StagePublic
    count: int
    amounts: list[CurrencyAmount]
    items: list[OpportunityPublic]


class BoardPublic(BaseModel):
    pipeline_id: uuid.UUID
    columns: list[BoardColumnPublic]


# Leads


class LeadPublic(BaseModel):
    customer_id: uuid.UUID
    source: str
    partner_id: str | None
    owner_id: str | None
    team: str | None
    status: Literal["open", "converted"]
    opportunity_id: uuid.UUID | None
    converted_at: datetime | None
    created_at: datetime
    version: int


class LeadsPublic(BaseModel):
    items: list[LeadPublic]
    next_cursor: str | None


class LeadAssign(BaseModel):
    model_config = _STRICT
    owner_id: Ident
    team: Ident | None = None


class LeadConvert(BaseModel):
    model_config = _STRICT
    pipeline_id: uuid.UUID
    stage_id: uuid.UUID | None = None
    name: Name | None = None
    amount: Money
    currency: CurrencyCode
    expected_close_date: Day | None = None
    owner_id: Ident | None = Field(default=None, description="Default: the lead's owner, else the caller")
    team: Ident | None = None


class ConversionPublic(BaseModel):
    customer_id: uuid.UUID
    opportunity_id: uuid.UUID
    lead: LeadPublic
    opportunity: OpportunityPublic


# Activities


class ActivityCreate(BaseModel):
    model_config = _STRICT
    kind: ActivityKind
    opportunity_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = Field(default=None, description="Needed when no opportunity is given")
    subject: Annotated[str, Field(max_length=500)] | None = None
    assignee_id: Ident | None = Field(default=None, description="Default: the caller")
    team: Ident | None = None
    due_at: AwareTime | None = None
    remind_at: AwareTime | None = Field(
        default=None, description="Needs due_at; not after it unless the pipeline allows"
    )
    duration_seconds: Annotated[int, Field(ge=0, le=86_400 * 7), JsonInteger] | None = None
    completed_at: AwareTime | None = Field(default=None, description="Log an activity that already took place")


class ActivityUpdate(BaseModel):
    """Absent: unchanged; null clears a field, but ``assignee_id`` cannot be null."""

    model_config = _STRICT
    subject: Annotated[str, Field(max_length=500)] | None = None
    assignee_id: Ident = None  # type: ignore[assignment]
    team: Ident | None = None
    due_at: AwareTime | None = None
    remind_at: AwareTime | None = None
    duration_seconds: Annotated[int, Field(ge=0, le=86_400 * 7), JsonInteger] | None = None


class ActivityPublic(BaseModel):
    id: uuid.UUID
    kind: ActivityKind
    customer_id: uuid.UUID
    opportunity_id: uuid.UUID | None
    subject: str | None
    assignee_id: str
    team: str | None
    status: Literal["open", "done", "cancelled"]
    due_at: datetime | None
    remind_at: datetime | None
    reminded_at: datetime | None
    duration_seconds: int | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    allowed_actions: list[str]


class ActivitiesPublic(BaseModel):
    items: list[ActivityPublic]
    next_cursor: str | None


# Reports


class ForecastFigures(BaseModel):
    weighted: Amount = Field(description="Σ amount × probability / 100 (won deals at 100 %)")
    committed: Amount = Field(description="Won deals and open deals at or above the commit probability")
    best_case: Amount = Field(description="Won deals and every open deal")
    deals: int
    unconverted_currencies: list[str] = Field(description="Currencies without a rate for some deal's date: left out")


class ForecastGroup(ForecastFigures):
    key: str | None = Field(description="The owner, team, stage id or month (YYYY-MM)")


class ForecastPublic(BaseModel):
    reporting_currency: str
    start: date
    end: date
    group_by: str
    commit_probability: int
    total: ForecastFigures
    groups: list[ForecastGroup]


class StageReport(BaseModel):
    stage: StagePublic
    average_age_seconds: int | None = Field(description="Average stay in the stage (open stays until now)")
    conversion_to_next_percent: Decimal | None = Field(
        description="Of the deals that entered it, the share that reached the next stage or beyond"
    )


class LossReasonCount(BaseModel):
    loss_reason: str | None
    count: int


class PipelineReportPublic(BaseModel):
    pipeline_id: uuid.UUID
    created_from: date
    created_to: date
    deals: int
    won: int
    lost: int
    win_rate_percent: Decimal | None
    average_cycle_seconds: int | None
    stages: list[StageReport]
    loss_reasons: list[LossReasonCount]


class ScoreEvidence(BaseModel):
    field: str
    value: str
    won: int = Field(description="The team's won deals with this value")
    lost: int
    used: bool = Field(description="False: fewer than 50 closed deals with this value, left out")


class OpportunityScorePublic(BaseModel):
    opportunity_id: uuid.UUID
    team: str | None
    win_probability_percent: Decimal | None = Field(
        description="Naive Bayes over the team's won and lost deals, 1–99.99; null before the team closed any deal"
    )
    evidence: list[ScoreEvidence]


class CustomerSalesPublic(BaseModel):
    customer_id: uuid.UUID
    open_opportunities: list[OpportunityPublic]
    next_activities: list[ActivityPublic]
