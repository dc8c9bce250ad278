"""Events produced by the churn service on ``relacja.churn``.

Risk tiers (from the BG/NBD probability that the customer is still active, see
docs/churn.md): ``low`` P(alive) ≥ 0.75, ``medium`` ≥ 0.50, ``high`` ≥ 0.25, ``critical``
below. An event is published when a customer's tier differs from the last one announced
for them — after a model run is activated or when a new order re-scores the customer.
A customer's first tier is announced too (``previous_risk_tier`` null).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from ..base import EventPayload
from ..topics import CHURN

__all__ = ["ChurnRiskTier", "ChurnRiskTierChangedV1"]

ChurnRiskTier = Literal["low", "medium", "high", "critical"]


class ChurnRiskTierChangedV1(EventPayload):
    """A customer's churn-risk tier changed."""

    event_type = "relacja.churn.risk_tier.changed.v1"
    topic = CHURN

    customer_id: UUID
    run_id: UUID = Field(description="The model run whose parameters produced the new score")
    previous_risk_tier: ChurnRiskTier | None = Field(description="Null when the customer had no tier before")
    risk_tier: ChurnRiskTier
    probability_alive: float = Field(ge=0, le=1)
    changed_at: datetime
