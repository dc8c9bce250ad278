"""Events produced by the customers service on ``relacja.customers``.

Payloads carry what other services need to act without calling the customers service,
and as little personal data as that allows: analytics needs stages, tags and dates,
not names. ``CustomerRegisteredV1`` carries the display name and e-mail for services
that address the customer (e.g. a partner feed under consent).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from ..base import EventPayload
from ..topics import CUSTOMERS

__all__ = [
    "ConsentGrantedV1",
    "ConsentPurpose",
    "ConsentWithdrawnV1",
    "CustomerErasedV1",
    "CustomerRegisteredV1",
    "CustomerUpdatedV1",
    "CustomersMergedV1",
    "ImportantDateUpcomingV1",
    "InteractionLoggedV1",
]

LifecycleStage = Literal["lead", "prospect", "customer", "inactive"]
ConsentPurpose = Literal["email_marketing", "sms_marketing", "phone_marketing", "profiling", "partner_sharing"]
InteractionChannel = Literal["phone", "email", "chat", "meeting", "social", "visit", "note"]


class CustomerRegisteredV1(EventPayload):
    """A new customer record was created in the customer master."""

    event_type = "relacja.customers.customer.registered.v1"
    topic = CUSTOMERS

    customer_id: UUID
    kind: Literal["person", "company"] = Field(description="B2C person or B2B company")
    display_name: str
    email: str | None = Field(default=None, description="Normalised (lower-case) e-mail address")
    lifecycle_stage: LifecycleStage
    registered_at: datetime = Field(description="When the record was created (RFC 3339, UTC)")
    company_id: UUID | None = Field(default=None, description="The company a person belongs to")
    owner_id: str | None = Field(default=None, description="The account manager")
    tags: list[str] = Field(default_factory=list)
    external_id: str | None = Field(default=None, description="The id in the company's other systems")
    imported: bool = Field(default=False, description="Created by a bulk import rather than by hand")


class CustomerUpdatedV1(EventPayload):
    """Fields of a customer changed (by hand, by import, or by the customer's own events)."""

    event_type = "relacja.customers.customer.updated.v1"
    topic = CUSTOMERS

    customer_id: UUID
    changed_fields: list[str] = Field(description="Names of the fields that changed")
    lifecycle_stage: LifecycleStage
    tags: list[str]
    owner_id: str | None = None
    company_id: UUID | None = None
    version: int = Field(description="The record's version after the change (its ETag)")
    updated_at: datetime


class CustomersMergedV1(EventPayload):
    """``merged_customer_id`` was merged into ``customer_id`` and no longer exists.

    Consumers re-key everything they hold about the merged id to the surviving id.
    Keyed by the surviving customer.
    """

    event_type = "relacja.customers.customer.merged.v1"
    topic = CUSTOMERS

    customer_id: UUID = Field(description="The surviving customer")
    merged_customer_id: UUID = Field(description="The customer merged into it (gone)")
    merged_at: datetime


class CustomerErasedV1(EventPayload):
    """The customer's personal data was erased (GDPR Art. 17); every service must drop its copy.

    Non-personal aggregates (counts, amounts, dates) may be kept under the same id.
    """

    event_type = "relacja.customers.customer.erased.v1"
    topic = CUSTOMERS

    customer_id: UUID
    erased_at: datetime


class ConsentGrantedV1(EventPayload):
    """The customer granted a consent."""

    event_type = "relacja.customers.consent.granted.v1"
    topic = CUSTOMERS

    customer_id: UUID
    consent_id: UUID = Field(description="The consent record (one per purpose, partner and partner purpose)")
    purpose: ConsentPurpose
    partner_id: str | None = Field(default=None, description="For partner_sharing: the partner")
    partner_purpose: str | None = Field(
        default=None, description="For partner_sharing: what the partner may use it for"
    )
    source: str = Field(description="Where the consent was given, e.g. web-form, call-centre, import")
    occurred_at: datetime


class ConsentWithdrawnV1(EventPayload):
    """The customer withdrew a consent."""

    event_type = "relacja.customers.consent.withdrawn.v1"
    topic = CUSTOMERS

    customer_id: UUID
    consent_id: UUID
    purpose: ConsentPurpose
    partner_id: str | None = None
    partner_purpose: str | None = None
    source: str
    occurred_at: datetime


class InteractionLoggedV1(EventPayload):
    """A contact with the customer was recorded (no subject or body: those stay in the master)."""

    event_type = "relacja.customers.interaction.logged.v1"
    topic = CUSTOMERS

    customer_id: UUID
    interaction_id: UUID
    channel: InteractionChannel
    direction: Literal["inbound", "outbound", "internal"]
    agent_id: str | None = None
    occurred_at: datetime
    duration_seconds: int | None = None


class ImportantDateUpcomingV1(EventPayload):
    """One of the customer's important dates comes up: time for wishes or a coupon."""

    event_type = "relacja.customers.important_date.upcoming.v1"
    topic = CUSTOMERS

    customer_id: UUID
    important_date_id: UUID
    kind: Literal["birthday", "name_day", "purchase_anniversary", "contract_anniversary", "custom"]
    label: str | None = None
    occurs_on: date = Field(description="The occurrence this event announces (this year's date)")
    days_ahead: int = Field(ge=0, description="How many days before the date the event was emitted")
