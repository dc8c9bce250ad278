"""Events produced by the sharing service on ``relacja.sharing``.

Agreement events say that an agreement's state changed; they carry no personal data.
They are keyed by the agreement id (not a customer: an agreement is about a partner), so
one agreement's changes stay in order. ``version`` is the agreement's version after the
change: the version that disclosures made from then on record.

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
    "AgreementActivatedV1",
    "AgreementSuspendedV1",
    "AgreementTerminatedV1",
    "ContributedInteraction",
    "ContributedLead",
    "PartnerContactChannel",
    "PartnerInteractionContributedV1",
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


class _AgreementChange(EventPayload):
    agreement_id: UUID
    partner_id: UUID
    version: int = Field(ge=1, description="The agreement's version after the change")
    purposes: list[str] = Field(description="The purposes the agreement names")
    direction: Literal["outbound", "inbound", "both"]
    legal_basis: Literal["consent", "contract", "legitimate_interest"]
    changed_by: str | None = Field(default=None, description="The staff member who made the change")
    occurred_at: datetime

    def subject(self) -> str:
        """Keyed by the agreement: its state changes stay in order."""
        return str(self.agreement_id)


class AgreementActivatedV1(_AgreementChange):
    """An agreement became active (from draft, or resumed after a suspension): data flows to the partner."""

    event_type = "relacja.sharing.agreement.activated.v1"
    topic = SHARING

    resumed: bool = Field(description="True when a suspended agreement was resumed")


class AgreementSuspendedV1(_AgreementChange):
    """An agreement was suspended: nothing flows to or from the partner until it is resumed."""

    event_type = "relacja.sharing.agreement.suspended.v1"
    topic = SHARING


class AgreementTerminatedV1(_AgreementChange):
    """An agreement was terminated for good: its feed is gone; erasure notices still reach the partner."""

    event_type = "relacja.sharing.agreement.terminated.v1"
    topic = SHARING
