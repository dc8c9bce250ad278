"""Events produced by the tickets service on ``relacja.tickets``.

Ticket events carry the ticket's classification (type, channel, priority, team) and
state after the event, never its subject, description or comments: those may hold
personal data and stay in the tickets service. Survey answers carry the score and the
kind, so satisfaction (CSAT) and loyalty (NPS) indices can be computed elsewhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from ..base import EventPayload
from ..topics import TICKETS

__all__ = [
    "SlaBreachedV1",
    "SurveyAnsweredV1",
    "TicketChannel",
    "TicketClosedV1",
    "TicketFirstRespondedV1",
    "TicketOpenedV1",
    "TicketPriority",
    "TicketReopenedV1",
    "TicketResolvedV1",
    "TicketStatus",
    "TicketType",
]

TicketType = Literal["question", "complaint", "return_request", "technical_problem", "other"]
TicketChannel = Literal["phone", "email", "chat", "web_form", "social", "in_person"]
TicketPriority = Literal["low", "normal", "high", "urgent"]
TicketStatus = Literal["new", "open", "pending_customer", "resolved", "closed"]


class _TicketSnapshot(EventPayload):
    customer_id: UUID
    ticket_id: UUID
    type: TicketType
    channel: TicketChannel
    priority: TicketPriority
    status: TicketStatus = Field(description="Status after the event")
    team: str | None = None
    assignee_id: str | None = None
    order_id: UUID | None = Field(default=None, description="The order the ticket is about, if any")
    opened_at: datetime
    occurred_at: datetime = Field(description="When the event's change happened")


class TicketOpenedV1(_TicketSnapshot):
    """A ticket was created (a complaint is a ticket of type ``complaint``)."""

    event_type = "relacja.tickets.ticket.opened.v1"
    topic = TICKETS

    tags: list[str] = Field(default_factory=list)


class TicketFirstRespondedV1(_TicketSnapshot):
    """An agent answered the customer for the first time (the first public comment)."""

    event_type = "relacja.tickets.ticket.first_responded.v1"
    topic = TICKETS

    business_seconds: int = Field(ge=0, description="First-response time in the team's business time, pauses excluded")
    within_sla: bool | None = Field(default=None, description="Null when no SLA policy applies")


class TicketResolvedV1(_TicketSnapshot):
    """The ticket was resolved; a CSAT survey is issued."""

    event_type = "relacja.tickets.ticket.resolved.v1"
    topic = TICKETS

    business_seconds: int = Field(ge=0, description="Resolution time in business time, pauses excluded")
    within_sla: bool | None = None


class TicketReopenedV1(_TicketSnapshot):
    """A resolved ticket was reopened within the reopen window."""

    event_type = "relacja.tickets.ticket.reopened.v1"
    topic = TICKETS


class TicketClosedV1(_TicketSnapshot):
    """The ticket was closed for good."""

    event_type = "relacja.tickets.ticket.closed.v1"
    topic = TICKETS


class SlaBreachedV1(_TicketSnapshot):
    """An SLA target passed its due time without being met (detected by the scheduler)."""

    event_type = "relacja.tickets.sla.breached.v1"
    topic = TICKETS

    target: Literal["first_response", "resolution"]
    due_at: datetime
    breached_at: datetime = Field(description="When the breach was detected")
    policy_id: UUID


class SurveyAnsweredV1(EventPayload):
    """A customer answered a satisfaction survey: CSAT (1–5) after a ticket, or NPS (0–10)."""

    event_type = "relacja.tickets.survey.answered.v1"
    topic = TICKETS

    customer_id: UUID
    survey_id: UUID
    kind: Literal["csat", "nps"]
    score: int = Field(ge=0, le=10, description="CSAT 1–5 or NPS 0–10")
    ticket_id: UUID | None = Field(default=None, description="For CSAT: the resolved ticket")
    has_comment: bool = Field(default=False, description="The comment itself stays in the tickets service")
    issued_at: datetime
    answered_at: datetime
