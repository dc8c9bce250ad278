"""A customer's next products (cross-sell): ``GET /api/v1/recommendations/customers/{id}/recommendations``.

Personal only under a current ``profiling`` consent: then the suggestions come from the
customer's latest baskets and the pair statistics (``source: bought_together``, with the
product it is most often bought with as the reason), filled up with popular products
(``source: popular``) when fewer qualify. Without the consent every suggestion is a
popular one and ``personalised`` is false. Products already bought (except repurchasable
categories) and inactive products are never suggested.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from relacja_servicekit import SessionDep
from relacja_servicekit.customer_directory import CustomerDirectoryDep
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.validation import RequireJson

from ..app import suggestions
from ..settings import get_settings
from .problems import app_errors
from .products import ProductRef

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/recommendations", tags=["recommendations"], dependencies=[RequireJson])

MAX_LIMIT = 50


class SuggestionOut(ProductRef):
    source: Literal["bought_together", "popular"]
    score: float = Field(description="Σ weight(bought product) × confidence(bought → this); 0 for popular fillers")
    reason: str = Field(description='Why, for people: "often bought with X" or "popular"')
    because_of: ProductRef | None = Field(description="The bought product it is most often bought with")
    confidence: float | None = Field(description="confidence(because_of → this)")
    lift: float | None = Field(description="lift(because_of, this)")


class CustomerRecommendations(BaseModel):
    customer_id: uuid.UUID
    personalised: bool = Field(description="False: no current profiling consent, so only popular products")
    items: list[SuggestionOut]


def _label(row: ProductRef | None, fallback: uuid.UUID) -> str:
    if row is None:
        return str(fallback)
    return row.name or row.sku or str(fallback)


@router.get(
    "/customers/{customer_id}/recommendations",
    response_model=CustomerRecommendations,
    summary="A customer's next products (cross-sell), with reasons",
    responses=problem_responses({404: "No such customer (not-found), or merged into another (customer-merged)"}),
)
async def customer_recommendations(
    customer_id: uuid.UUID,
    session: SessionDep,
    directory: CustomerDirectoryDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"How many (1–{MAX_LIMIT})")] = 10,
) -> CustomerRecommendations:
    async with session.begin():
        with app_errors():
            found = await suggestions.customer_suggestions(session, directory, customer_id, limit, get_settings())
    items = []
    for s in found.suggestions:
        row = found.products.get(s.product)  # type: ignore[call-overload]  # live product ids are UUIDs
        ref = ProductRef(
            product_id=s.product,
            sku=row.sku if row else None,
            name=row.name if row else None,
            category=row.category if row else None,
        )
        because = None
        if s.because_of is not None:
            source_row = found.products.get(s.because_of)  # type: ignore[call-overload]  # as above
            because = ProductRef(
                product_id=s.because_of,
                sku=source_row.sku if source_row else None,
                name=source_row.name if source_row else None,
                category=source_row.category if source_row else None,
            )
        items.append(
            SuggestionOut(
                **ref.model_dump(),
                source=s.source,
                score=s.score,
                reason=f"often bought with {_label(because, s.because_of)}" if because else "popular",  # type: ignore[arg-type]  # because_of is set when because is
                because_of=because,
                confidence=s.confidence,
                lift=s.lift,
            )
        )
    return CustomerRecommendations(customer_id=customer_id, personalised=found.personalised, items=items)
