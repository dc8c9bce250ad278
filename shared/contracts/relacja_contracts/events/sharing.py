"""Events produced by the sharing service on ``relacja.sharing``.

Inbound contributions (a partner posts data about customers under an inbound agreement,
``POST /partner/v1/contributions``; see docs/sharing.md, "Contributions"):

    PartnerInteractionContributedV1   a partner's contact with a customer it was given
                                      (a delivery attempt, a service visit, a call in its
                                      contact centre); the customers service adds it to
                                      the customer's timeline with the partner as source
    PartnerLeadContributedV1          a partner registered a prospect; the customers
                                      service creates it as a new customer in stage
                                      ``lead`` under the id sharing assigned, with the
                                      partner as its source (the sales service follows)

Both say who contributed it (partner id and name), under which agreement and version,
and when sharing received it; the contribution id is the interaction id (or the lead's
note id) in the customers service, so a redelivered event changes nothing twice. Keyed by
the customer: a contribution is ordered with the customer's other events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ..base import EventPayload
from ..topics import SHARING

__all__ = [
    "ContributedInteraction",
    "ContributedLead",
    "PartnerInteractionContributedV1",
    "PartnerContactChannel",
    "PartnerInteractionKind",
    "PartnerLeadContributedV1",
]

PartnerInteractionKind = Literal["delivery_attempt", "delivery", "service_visit", "call", "message", "meeting", "other"]
# The customers service's interaction channels but ``meeting``, which there means a
# scheduled meeting of the company's own agents (a partner's meeting is kind ``meeting``).
PartnerContactChannel = Literal["phone", "email", "chat", "social", "visit", "note"]


class ContributedInteraction(BaseModel):
    """What the partner reports about one contact with the customer."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: PartnerInteractionKind = Field(description="What happened, in the partner's terms")
    channel: PartnerContactChannel = Field(description="How the contact happened")
    direction: Literal["inbound", "outbound"] = Field(
        description="inbound: the customer contacted the partner; outbound: the partner contacted the customer"
    )
    summary: str | None = Field(default=None, description="What the partner wrote about it (free text)")
    occurred_at: datetime
    duration_seconds: int | None = Field(default=None, ge=0)
    external_reference: str | None = Field(default=None, description="The partner's own id of the contact")


class ContributedLead(BaseModel):
    """A prospect a partner registered (personal data: erased with the customer)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str = Field(description="The prospect's name as the partner gave it")
    email: str | None = Field(default=None, description="Normalised (lower-case) e-mail address")
    phone: str | None = Field(default=None, description="E.164")
    company: str | None = Field(default=None, description="The company the prospect works for")
    note: str | None = Field(default=None, description="What the partner wrote about the prospect")
    external_reference: str | None = Field(default=None, description="The partner's own id of the lead")


class _Contribution(EventPayload):
    contribution_id: UUID = Field(description="The contribution in the sharing service (unique)")
    partner_id: UUID
    partner_name: str = Field(description="The partner's legal name when it contributed")
    agreement_id: UUID = Field(description="The inbound agreement it was contributed under")
    agreement_version: int = Field(ge=1, description="The agreement's version at the time")
    customer_id: UUID
    received_at: datetime = Field(description="When sharing received and accepted the contribution")


class PartnerInteractionContributedV1(_Contribution):
    """A partner contributed an interaction with a customer it was given (resolved from its identifier)."""

    event_type = "relacja.sharing.interaction.contributed.v1"
    topic = SHARING

    interaction: ContributedInteraction
    occurred_at: datetime = Field(description="When the interaction happened (as interaction.occurred_at)")


class PartnerLeadContributedV1(_Contribution):
    """A partner contributed a lead: ``customer_id`` is new, assigned by sharing for the customers service to use."""

    event_type = "relacja.sharing.lead.contributed.v1"
    topic = SHARING

    lead: ContributedLead
    occurred_at: datetime = Field(description="When the partner registered the lead (the time it was received)")
