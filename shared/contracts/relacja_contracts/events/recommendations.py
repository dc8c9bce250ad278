"""Events produced by the recommendations service on ``relacja.recommendations``.

``RecommendationsRefreshedV1`` carries a customer's current top suggestions after they
changed: after an order of the customer changed its baskets (placed, cancelled,
returned), or after the customer's ``profiling`` consent was granted or withdrawn.
Suggestions are personal only under a current ``profiling`` consent; without one the
event says ``personalised: false`` and carries no products (the engagement service then
uses the non-personal popular list, ``GET /api/v1/recommendations/popular``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ..base import EventPayload
from ..topics import RECOMMENDATIONS

__all__ = ["RecommendationsRefreshedV1", "SuggestedProduct", "SuggestionSource"]

SuggestionSource = Literal["bought_together", "popular"]


class SuggestedProduct(BaseModel):
    """One suggestion, best first."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    product_id: UUID
    sku: str | None = None
    name: str | None = None
    source: SuggestionSource = Field(description="bought_together: from the customer's baskets; popular: filler")
    because_of_product_id: UUID | None = Field(
        default=None, description="The bought product it is most often bought with (bought_together only)"
    )
    score: float = Field(ge=0)


class RecommendationsRefreshedV1(EventPayload):
    """A customer's suggestions were recomputed and differ from what the last event said, or
    the consent that allows them changed."""

    event_type = "relacja.recommendations.recommendations.refreshed.v1"
    topic = RECOMMENDATIONS

    customer_id: UUID
    personalised: bool = Field(description="False: no current profiling consent, so no personal suggestions")
    products: list[SuggestedProduct] = Field(default_factory=list)
    refreshed_at: datetime
