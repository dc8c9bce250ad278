"""Reading the suggestions: products bought together, a customer's next products, popular
products and upgrades.

    bought_together(session, product_id, limit, min_lift, settings)   → (product, N, [PairItem])
    customer_suggestions(session, directory, customer_id, limit, settings) → CustomerSuggestions
    popular(session, limit, category)                                  → [product rows with counts]
    upgrades(session, product_id, limit)                               → (product, buyers, [UpgradeItem])

Each is a few index look-ups (the pairs of one product, the baskets of one customer), so
an answer costs the same at a thousand or a million customers. Figures are computed from
the counts when read, with the formulas of domain/association.py written in SQL.

A customer's suggestions are personal only under a current ``profiling`` consent (GDPR
art. 21/22: suggestions drawn from one's purchases are profiling); without one the answer
is the non-personal popular list, labelled ``popular`` and ``personalised: false``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_servicekit.customer_directory import CustomerDirectory
from relacja_servicekit.known_customers import record_customer

from ..domain.ranking import Edge, Suggestion, rank_suggestions, recent_weights
from ..settings import RecommendationsSettings
from ..tables import known_customers, rec_products
from .errors import CustomerMerged, CustomerNotFound, ProductNotFound
from .projection import has_profiling_consent

__all__ = [
    "CustomerSuggestions",
    "PairItem",
    "UpgradeItem",
    "bought_together",
    "customer_suggestions",
    "popular",
    "product_row",
    "rank_for_customer",
    "statistics_window",
    "upgrades",
]

# Figures from counts, as domain/association.py defines them (n = baskets in the window).
_PAIRS_OF = """
WITH n AS (SELECT greatest(coalesce((SELECT basket_count FROM rec_statistics_state WHERE id = 1), 0), 1) AS n),
edges AS (
    SELECT product_a AS source, product_b AS target, pair_count FROM rec_pair_counts WHERE product_a = ANY(:sources)
    UNION ALL
    SELECT product_b, product_a, pair_count FROM rec_pair_counts WHERE product_b = ANY(:sources)
)
SELECT e.source, e.target, e.pair_count, cs.basket_count AS source_count, ct.basket_count AS target_count, n.n,
       e.pair_count::float8 / n.n AS support,
       e.pair_count::float8 / cs.basket_count AS confidence,
       e.pair_count::float8 / ct.basket_count AS reverse_confidence,
       (e.pair_count::float8 * n.n) / (cs.basket_count::float8 * ct.basket_count) AS lift,
       p.sku, p.name, p.category
FROM edges e
CROSS JOIN n
JOIN rec_product_counts cs ON cs.product_id = e.source
JOIN rec_product_counts ct ON ct.product_id = e.target
JOIN rec_products p ON p.product_id = e.target
WHERE e.pair_count >= :min_count AND e.pair_count::float8 / n.n >= :min_support
  AND (e.pair_count::float8 * n.n) / (cs.basket_count::float8 * ct.basket_count) >= :min_lift
  AND p.active
"""


@dataclass(frozen=True)
class PairItem:
    product_id: uuid.UUID
    sku: str | None
    name: str | None
    category: str | None
    count: int
    support: float
    confidence: float
    reverse_confidence: float
    lift: float


async def product_row(session: AsyncSession, product_id: uuid.UUID) -> Any:
    row = (await session.execute(select(rec_products).where(rec_products.c.product_id == product_id))).first()
    if row is None:
        raise ProductNotFound(product_id)
    return row


async def bought_together(
    session: AsyncSession, product_id: uuid.UUID, limit: int, min_lift: float, settings: RecommendationsSettings
) -> tuple[Any, int, list[PairItem]]:
    product = await product_row(session, product_id)
    rows = (
        await session.execute(
            text(_PAIRS_OF + " ORDER BY lift DESC, e.pair_count DESC, e.target LIMIT :limit"),
            {
                "sources": [product_id],
                "min_count": settings.min_count,
                "min_support": settings.min_support,
                "min_lift": min_lift,
                "limit": limit,
            },
        )
    ).all()
    baskets = await session.scalar(text("SELECT basket_count FROM rec_statistics_state WHERE id = 1")) or 0
    items = [
        PairItem(
            product_id=r.target,
            sku=r.sku,
            name=r.name,
            category=r.category,
            count=r.pair_count,
            support=r.support,
            confidence=r.confidence,
            reverse_confidence=r.reverse_confidence,
            lift=r.lift,
        )
        for r in rows
    ]
    return product, baskets, items


async def statistics_window(session: AsyncSession) -> datetime | None:
    """The start of the window the counts are over (None before any basket)."""
    return await session.scalar(text("SELECT window_start FROM rec_statistics_state WHERE id = 1"))


async def popular(session: AsyncSession, limit: int, category: str | None = None) -> list[Any]:
    return list(
        (
            await session.execute(
                text("""
                SELECT p.product_id, p.sku, p.name, p.category, c.basket_count
                FROM rec_product_counts c JOIN rec_products p ON p.product_id = c.product_id
                WHERE p.active AND c.basket_count > 0 AND (CAST(:category AS text) IS NULL OR p.category = :category)
                ORDER BY c.basket_count DESC, p.product_id LIMIT :limit
                """),
                {"limit": limit, "category": category},
            )
        ).all()
    )


@dataclass(frozen=True)
class CustomerSuggestions:
    customer_id: uuid.UUID
    personalised: bool
    suggestions: list[Suggestion]
    products: dict[uuid.UUID, Any]  # product_id → row (sku, name, category, list_price, currency)


async def _require_customer(session: AsyncSession, directory: CustomerDirectory | None, customer_id: uuid.UUID) -> None:
    row = (
        await session.execute(
            select(known_customers.c.state, known_customers.c.merged_into).where(
                known_customers.c.customer_id == customer_id
            )
        )
    ).first()
    state: str  # the directory answers "active" or "erased"; the local table also knows "merged"
    merged_into: uuid.UUID | None
    if row is None:
        if directory is None:
            raise CustomerNotFound(customer_id)
        # Read-through: a customer registered a moment ago is known to the customers service first.
        answer = await directory.look_up(customer_id)
        if answer is None:
            raise CustomerNotFound(customer_id)
        await record_customer(session, known_customers, customer_id, answer.state, answer.external_id)
        state, merged_into = answer.state, None
    else:
        state, merged_into = row.state, row.merged_into
    if state == "erased":
        raise CustomerNotFound(customer_id, erased=True)
    if state == "merged" and merged_into is not None:
        raise CustomerMerged(customer_id, merged_into)


async def rank_for_customer(
    session: AsyncSession, customer_id: uuid.UUID, limit: int, settings: RecommendationsSettings
) -> list[Suggestion]:
    """The personal ranking (the caller has checked the consent)."""
    recent_rows = (
        await session.execute(
            text("""
            SELECT array_agg(product_id) AS products FROM rec_basket_items WHERE customer_id = :c
            GROUP BY order_id, placed_at ORDER BY placed_at DESC, order_id LIMIT :n
            """),
            {"c": customer_id, "n": settings.recent_baskets},
        )
    ).all()
    recent = recent_weights(r.products for r in recent_rows)
    bought = set(
        (
            await session.execute(
                text("""
                SELECT DISTINCT b.product_id FROM rec_basket_items b LEFT JOIN rec_products p ON p.product_id = b.product_id
                WHERE b.customer_id = :c AND NOT (coalesce(p.category, '') = ANY(:repurchasable))
                """),
                {"c": customer_id, "repurchasable": settings.repurchasable_categories},
            )
        ).scalars()
    )
    edges: list[Edge] = []
    if recent:
        edges = [
            Edge(r.source, r.target, r.confidence, r.lift)
            for r in (
                await session.execute(
                    text(_PAIRS_OF),
                    {
                        "sources": list(recent),
                        "min_count": settings.min_count,
                        "min_support": settings.min_support,
                        "min_lift": settings.min_lift,
                    },
                )
            ).all()
        ]
    fill = [r.product_id for r in await popular(session, limit + len(bought))]
    return rank_suggestions(recent, edges, bought, fill, limit)


async def customer_suggestions(
    session: AsyncSession,
    directory: CustomerDirectory | None,
    customer_id: uuid.UUID,
    limit: int,
    settings: RecommendationsSettings,
) -> CustomerSuggestions:
    await _require_customer(session, directory, customer_id)
    if await has_profiling_consent(session, customer_id):
        suggestions = await rank_for_customer(session, customer_id, limit, settings)
        personalised = True
    else:
        suggestions = [Suggestion(r.product_id, "popular", 0.0) for r in await popular(session, limit)]
        personalised = False
    wanted = {s.product for s in suggestions} | {s.because_of for s in suggestions if s.because_of is not None}
    rows = (await session.execute(select(rec_products).where(rec_products.c.product_id.in_(wanted)))).all()
    return CustomerSuggestions(customer_id, personalised, suggestions, {r.product_id: r for r in rows})


@dataclass(frozen=True)
class UpgradeItem:
    product_id: uuid.UUID
    sku: str | None
    name: str | None
    list_price: Decimal
    unit_cost: Decimal | None
    currency: str
    customers: int
    price_difference: Decimal
    margin_difference: Decimal | None


async def upgrades(session: AsyncSession, product_id: uuid.UUID, limit: int) -> tuple[Any, int, list[UpgradeItem]]:
    """Pricier products of the same category and currency that buyers of this one bought later."""
    product = await product_row(session, product_id)
    if product.category is None or product.list_price is None:
        return product, 0, []
    buyers = await session.scalar(
        text(
            "SELECT count(DISTINCT customer_id) FROM rec_basket_items WHERE product_id = :p AND customer_id IS NOT NULL"
        ),
        {"p": product_id},
    )
    rows = (
        await session.execute(
            text("""
            WITH buyers AS (
                SELECT customer_id, min(placed_at) AS first_at FROM rec_basket_items
                WHERE product_id = :p AND customer_id IS NOT NULL GROUP BY customer_id
            ),
            later AS (
                SELECT b.product_id, count(DISTINCT b.customer_id) AS customers
                FROM rec_basket_items b JOIN buyers u ON u.customer_id = b.customer_id AND b.placed_at > u.first_at
                WHERE b.product_id <> :p GROUP BY b.product_id
            )
            SELECT p.product_id, p.sku, p.name, p.list_price, p.unit_cost, p.currency, later.customers
            FROM later JOIN rec_products p ON p.product_id = later.product_id
            WHERE p.active AND p.category = :category AND p.currency = :currency AND p.list_price > :price
            ORDER BY later.customers DESC, p.list_price - coalesce(p.unit_cost, p.list_price) DESC, p.product_id
            LIMIT :limit
            """),
            {
                "p": product_id,
                "category": product.category,
                "currency": product.currency,
                "price": product.list_price,
                "limit": limit,
            },
        )
    ).all()
    own_margin = None if product.unit_cost is None else product.list_price - product.unit_cost
    items = [
        UpgradeItem(
            product_id=r.product_id,
            sku=r.sku,
            name=r.name,
            list_price=r.list_price,
            unit_cost=r.unit_cost,
            currency=r.currency,
            customers=r.customers,
            price_difference=r.list_price - product.list_price,
            margin_difference=None
            if own_margin is None or r.unit_cost is None
            else (r.list_price - r.unit_cost) - own_margin,
        )
        for r in rows
    ]
    return product, buyers or 0, items
