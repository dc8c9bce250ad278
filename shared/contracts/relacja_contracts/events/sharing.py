"""Events produced by the sharing service on ``relacja.sharing``.

Agreement events say that an agreement's state changed; they carry no personal data.
They are keyed by the agreement id (not a customer: an agreement is about a partner), so
one agreement's changes stay in order. ``version`` is the agreement's version after the
change: the version that disclosures made from then on record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from ..base import EventPayload
from ..topics import SHARING

__all__ = ["AgreementActivatedV1", "AgreementSuspendedV1", "AgreementTerminatedV1"]


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
