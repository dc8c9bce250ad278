"""Product pairs and upgrades (HTTP; the use cases are in ``app/suggestions.py``).

GET /api/v1/recommendations/products/{id}/bought-together?limit=&min_lift=
    products bought together with this one, by lift, with count, support, confidence
    both ways and lift
GET /api/v1/recommendations/products/{id}/upgrades?limit=
    pricier products of the same category that this product's buyers bought later, with
    the price and unit-margin differences
GET /api/v1/recommendations/popular?limit=&category=
    the products in most baskets of the window (non-personal)
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from relacja_contracts.money import Amount
from relacja_servicekit import SessionDep
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.validation import RequireJson

from ..app import suggestions
from ..settings import get_settings
from .problems import app_errors

__all__ = ["router", "ProductRef"]

router = APIRouter(prefix="/api/v1/recommendations", tags=["recommendations"], dependencies=[RequireJson])

MAX_LIMIT = 100


class ProductRef(BaseModel):
    product_id: uuid.UUID
    sku: str | None = Field(description="Null until the product's catalogue event or first order arrived")
    name: str | None = Field(description="Null until the product's catalogue event arrived")
    category: str | None


class PairOut(ProductRef):
    count: int = Field(description="Baskets holding both products")
    support: float = Field(description="count / baskets in the window")
    confidence: float = Field(description="Of baskets with the asked product, the share also holding this one")
    reverse_confidence: float = Field(description="Of baskets with this product, the share also holding the asked one")
    lift: float = Field(description="confidence / (share of baskets holding this product); > 1: bought together")


class BoughtTogether(BaseModel):
    product: ProductRef
    baskets: int = Field(description="Baskets in the statistics' window (N)")
    window_start: datetime | None
    min_count: int
    min_support: float
    min_lift: float
    items: list[PairOut]


LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"How many (1–{MAX_LIMIT})")]


def _ref(row) -> ProductRef:
    return ProductRef(product_id=row.product_id, sku=row.sku, name=row.name, category=row.category)


@router.get(
    "/products/{product_id}/bought-together",
    response_model=BoughtTogether,
    summary="Products bought together with a product, by lift",
    responses=problem_responses({404: "No such product"}),
)
async def bought_together(
    product_id: uuid.UUID,
    session: SessionDep,
    limit: LimitQuery = 10,
    min_lift: Annotated[float, Query(ge=0, le=1e9, description="Leave out pairs with a lower lift")] = 0.0,
) -> BoughtTogether:
    settings = get_settings()
    with app_errors():
        product, baskets, items = await suggestions.bought_together(session, product_id, limit, min_lift, settings)
    state = await suggestions.statistics_window(session)
    return BoughtTogether(
        product=_ref(product),
        baskets=baskets,
        window_start=state,
        min_count=settings.min_count,
        min_support=settings.min_support,
        min_lift=min_lift,
        items=[PairOut(**item.__dict__) for item in items],
    )


class UpgradeOut(ProductRef):
    list_price: Amount
    unit_cost: Amount | None
    currency: str
    customers: int = Field(description="Buyers of the asked product who bought this one later")
    share: float = Field(description="customers / buyers of the asked product")
    price_difference: Amount = Field(description="This list price − the asked product's, per unit")
    margin_difference: Amount | None = Field(
        description="(list price − unit cost) of this − of the asked product, per unit; null when a cost is unknown"
    )


class Upgrades(BaseModel):
    product: ProductRef
    list_price: Amount | None
    currency: str | None
    buyers: int = Field(description="Customers who bought the asked product")
    items: list[UpgradeOut]


@router.get(
    "/products/{product_id}/upgrades",
    response_model=Upgrades,
    summary="Up-sell: pricier products of the same category its buyers went on to buy",
    responses=problem_responses({404: "No such product"}),
)
async def upgrades(product_id: uuid.UUID, session: SessionDep, limit: LimitQuery = 10) -> Upgrades:
    with app_errors():
        product, buyers, items = await suggestions.upgrades(session, product_id, limit)
    return Upgrades(
        product=_ref(product),
        list_price=product.list_price,
        currency=product.currency,
        buyers=buyers,
        items=[
            UpgradeOut(
                product_id=i.product_id,
                sku=i.sku,
                name=i.name,
                category=product.category,
                list_price=i.list_price,
                unit_cost=i.unit_cost,
                currency=i.currency,
                customers=i.customers,
                share=i.customers / buyers if buyers else 0.0,
                price_difference=i.price_difference,
                margin_difference=i.margin_difference,
            )
            for i in items
        ],
    )


class PopularOut(ProductRef):
    baskets: int = Field(description="Baskets in the window holding the product")


class Popular(BaseModel):
    items: list[PopularOut]


@router.get("/popular", response_model=Popular, summary="The products in most baskets of the window (non-personal)")
async def popular(
    session: SessionDep,
    limit: LimitQuery = 10,
    category: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
) -> Popular:
    rows = await suggestions.popular(session, limit, category)
    return Popular(items=[PopularOut(**_ref(r).model_dump(), baskets=r.basket_count) for r in rows])
