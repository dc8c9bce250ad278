"""Events produced by the sales service on ``relacja.sales``.

    OpportunityCreatedV1        a deal was opened (by hand, or by converting a lead)
    OpportunityStageChangedV1   a deal moved from one stage of its pipeline to another
    OpportunityWonV1            a deal was closed as won; ``draft_order`` asks the orders
                                service for a draft order with the deal's line items
    OpportunityLostV1           a deal was closed as lost, with the loss reason's code
    LeadConvertedV1             a lead became a prospect with a deal; the customers service
                                moves the customer to lifecycle stage ``prospect``
    ActivityLoggedV1            a call or meeting with the customer took place; the customers
                                service shows it in the customer's timeline
    ActivityDueV1               an activity's reminder time came (emitted once per reminder)

Every event is keyed by the customer id. Events carry stages, amounts and owners, never an
activity's subject or a deal's next step: free text may hold personal data and stays in the
sales service. Amounts are decimal strings with an ISO 4217 currency code.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ..base import EventPayload
from ..money import Amount, CurrencyCode
from ..topics import SALES

__all__ = [
    "ActivityDueV1",
    "ActivityKind",
    "ActivityLoggedV1",
    "DealSource",
    "DraftOrderLine",
    "LeadConvertedV1",
    "OpportunityCreatedV1",
    "OpportunityLostV1",
    "OpportunityStageChangedV1",
    "OpportunityStatus",
    "OpportunityWonV1",
]

OpportunityStatus = Literal["open", "won", "lost"]
ActivityKind = Literal["call", "meeting", "to_do"]
DealSource = Literal["web_form", "import", "partner", "campaign", "referral", "manual", "other"]


class _Deal(EventPayload):
    customer_id: UUID = Field(description="The customer (person or company) the deal is with")
    opportunity_id: UUID
    pipeline_id: UUID
    owner_id: str = Field(description="The sales rep who owns the deal")
    team: str | None = None
    amount: Amount = Field(description="The deal's value (tax excluded)")
    currency: CurrencyCode
    occurred_at: datetime = Field(description="When the event's change happened")


class OpportunityCreatedV1(_Deal):
    """A deal was opened."""

    event_type = "relacja.sales.opportunity.created.v1"
    topic = SALES

    stage_id: UUID
    stage_name: str
    probability: int = Field(ge=0, le=100, description="The stage's win probability, percent")
    expected_close_date: date | None = None
    source: DealSource
    lead_conversion: bool = Field(default=False, description="Created by converting a lead")


class OpportunityStageChangedV1(_Deal):
    """A deal moved between stages (names as they were at the time of the move)."""

    event_type = "relacja.sales.opportunity.stage_changed.v1"
    topic = SALES

    from_stage_id: UUID
    from_stage_name: str
    to_stage_id: UUID
    to_stage_name: str
    probability: int = Field(ge=0, le=100, description="The new stage's win probability, percent")
    changed_by: str | None = Field(default=None, description="Who moved it (the caller's id)")


class DraftOrderLine(BaseModel):
    """A line item of a won deal, priced as agreed in the deal."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    product_id: UUID
    quantity: int = Field(ge=1)
    unit_price: Amount
    discount_amount: Amount = Field(description="Discount on the whole line")


class OpportunityWonV1(_Deal):
    """A deal was closed as won."""

    event_type = "relacja.sales.opportunity.won.v1"
    topic = SALES

    stage_id: UUID = Field(description="The won stage it closed in")
    closed_at: datetime
    draft_order: bool = Field(description="The orders service should create a draft order from line_items")
    line_items: list[DraftOrderLine] = Field(default_factory=list)


class OpportunityLostV1(_Deal):
    """A deal was closed as lost."""

    event_type = "relacja.sales.opportunity.lost.v1"
    topic = SALES

    stage_id: UUID = Field(description="The closed stage it ended in")
    loss_reason: str = Field(description="The code of a managed loss reason")
    closed_at: datetime


class LeadConvertedV1(EventPayload):
    """A lead was converted: the customer is now a prospect, with an opportunity."""

    event_type = "relacja.sales.lead.converted.v1"
    topic = SALES

    customer_id: UUID
    opportunity_id: UUID
    converted_by: str | None = Field(default=None, description="Who converted it (the caller's id)")
    occurred_at: datetime


class ActivityLoggedV1(EventPayload):
    """A call or meeting with the customer took place (completed); no subject or notes."""

    event_type = "relacja.sales.activity.logged.v1"
    topic = SALES

    customer_id: UUID
    activity_id: UUID
    kind: Literal["call", "meeting"]
    assignee_id: str
    opportunity_id: UUID | None = None
    occurred_at: datetime = Field(description="When the call or meeting took place")
    duration_seconds: int | None = Field(default=None, ge=0)


class ActivityDueV1(EventPayload):
    """An activity's reminder time came; emitted once per reminder, within 60 s of it."""

    event_type = "relacja.sales.activity.due.v1"
    topic = SALES

    customer_id: UUID
    activity_id: UUID
    kind: ActivityKind
    assignee_id: str
    team: str | None = None
    opportunity_id: UUID | None = None
    due_at: datetime
    remind_at: datetime
    occurred_at: datetime = Field(description="When the reminder was emitted")
