"""Projection upkeep: rows from events, aggregates recomputed for the customers they touched.

Every ``refresh_*`` takes a list of customers and is one statement, whether a single
event touched one customer or a consumer batch touched hundreds (the definitions exist
once).

Definitions (docs/segmentation.md repeats them):

    purchase order   an order in the reporting currency that is not cancelled and whose
                     net amount (gross − returned) is above 0 — a fully returned order
                     is not a purchase that stayed
    purchases        distinct UTC calendar days with a purchase order (same-day orders
                     are one purchase)
    orders_count     number of purchase orders
    gross_revenue    Σ gross_amount of purchase orders
    net_revenue      Σ net_amount (returns netted; cancelled orders are 0 by contract)
    margin           Σ margin of purchase orders whose margin is known
    avg_order_value  net_revenue / orders_count
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..tables import customer_aliases

__all__ = [
    "resolve",
    "resolve_many",
    "ensure_profile",
    "ensure_profiles",
    "refresh_orders",
    "refresh_tickets",
    "refresh_consents",
    "rebuild_order_aggregates",
    "PURCHASE_FILTER",
]

# The SQL predicate of a purchase order on seg_orders (``:currency`` bound).
PURCHASE_FILTER = "status <> 'cancelled' AND net_amount > 0 AND currency = :currency"


async def resolve(session: AsyncSession, customer_id: uuid.UUID) -> uuid.UUID:
    """The surviving id of a customer that may have been merged away."""
    surviving = await session.scalar(
        customer_aliases.select()
        .with_only_columns(customer_aliases.c.customer_id)
        .where(customer_aliases.c.merged_customer_id == customer_id)
    )
    return surviving or customer_id


async def resolve_many(session: AsyncSession, customer_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """The surviving id of each of ``customer_ids`` (itself when not merged away), in one query."""
    ids = list(set(customer_ids))
    found: dict[uuid.UUID, uuid.UUID] = dict(
        (
            await session.execute(
                text(
                    "SELECT merged_customer_id, customer_id FROM customer_aliases "
                    "WHERE merged_customer_id = ANY(CAST(:ids AS uuid[]))"
                ),
                {"ids": ids},
            )
        ).all()
    )
    return {customer_id: found.get(customer_id, customer_id) for customer_id in ids}


async def ensure_profile(session: AsyncSession, customer_id: uuid.UUID) -> None:
    await ensure_profiles(session, [customer_id])


async def ensure_profiles(session: AsyncSession, customer_ids: Sequence[uuid.UUID]) -> None:
    # In id order: concurrent writers lock profiles in the same order (no deadlock).
    await session.execute(
        text(
            "INSERT INTO customer_profiles (customer_id) SELECT c FROM unnest(CAST(:ids AS uuid[])) AS c ORDER BY c "
            "ON CONFLICT (customer_id) DO NOTHING"
        ),
        {"ids": sorted(set(customer_ids))},
    )


# The aggregate of a LATERAL subquery without GROUP BY always yields one row: a customer
# without purchase orders gets zeros and NULLs, as the definitions say.
_REFRESH_ORDERS = text(f"""
UPDATE customer_profiles AS p SET
    orders_count = a.orders_count,
    purchases = a.purchases,
    gross_revenue = a.gross_revenue,
    net_revenue = a.net_revenue,
    margin = a.margin,
    avg_order_value = CASE WHEN a.orders_count > 0 THEN round(a.net_revenue / a.orders_count, 4) END,
    first_purchase_at = a.first_purchase_at,
    last_purchase_at = a.last_purchase_at,
    updated_at = now()
FROM unnest(CAST(:ids AS uuid[])) AS u (customer_id)
CROSS JOIN LATERAL (
    SELECT count(*) AS orders_count,
           count(DISTINCT (placed_at AT TIME ZONE 'UTC')::date) AS purchases,
           coalesce(sum(gross_amount), 0) AS gross_revenue,
           coalesce(sum(net_amount), 0) AS net_revenue,
           coalesce(sum(margin), 0) AS margin,
           min(placed_at) AS first_purchase_at,
           max(placed_at) AS last_purchase_at
    FROM seg_orders
    WHERE customer_id = u.customer_id AND {PURCHASE_FILTER}
) AS a
WHERE p.customer_id = u.customer_id
""")

_REFRESH_TICKETS = text("""
UPDATE customer_profiles AS p SET
    tickets = a.tickets, complaints = a.complaints, updated_at = now()
FROM unnest(CAST(:ids AS uuid[])) AS u (customer_id)
CROSS JOIN LATERAL (SELECT count(*) AS tickets, count(*) FILTER (WHERE type = 'complaint') AS complaints
                    FROM seg_tickets WHERE customer_id = u.customer_id) AS a
WHERE p.customer_id = u.customer_id
""")

# A purpose counts as consented when any of its consent records is currently granted.
_REFRESH_CONSENTS = text("""
UPDATE customer_profiles AS p SET
    consents = coalesce((SELECT array_agg(DISTINCT purpose ORDER BY purpose) FROM seg_consents
                         WHERE customer_id = p.customer_id AND granted), '{}'),
    updated_at = now()
WHERE p.customer_id = ANY(CAST(:ids AS uuid[]))
""")


def _ids(customers: uuid.UUID | Sequence[uuid.UUID]) -> list[uuid.UUID]:
    return [customers] if isinstance(customers, uuid.UUID) else sorted(set(customers))


async def refresh_orders(session: AsyncSession, customers: uuid.UUID | Sequence[uuid.UUID], currency: str) -> None:
    """The order aggregates of one customer or of many, from their seg_orders rows."""
    await session.execute(_REFRESH_ORDERS, {"ids": _ids(customers), "currency": currency})


async def refresh_tickets(session: AsyncSession, customers: uuid.UUID | Sequence[uuid.UUID]) -> None:
    await session.execute(_REFRESH_TICKETS, {"ids": _ids(customers)})


async def refresh_consents(session: AsyncSession, customers: uuid.UUID | Sequence[uuid.UUID]) -> None:
    await session.execute(_REFRESH_CONSENTS, {"ids": _ids(customers)})


_REBUILD_ALL = text(f"""
UPDATE customer_profiles AS p SET
    orders_count = coalesce(a.orders_count, 0),
    purchases = coalesce(a.purchases, 0),
    gross_revenue = coalesce(a.gross_revenue, 0),
    net_revenue = coalesce(a.net_revenue, 0),
    margin = coalesce(a.margin, 0),
    avg_order_value = CASE WHEN a.orders_count > 0 THEN round(a.net_revenue / a.orders_count, 4) END,
    first_purchase_at = a.first_purchase_at,
    last_purchase_at = a.last_purchase_at,
    updated_at = now()
FROM customer_profiles AS q
LEFT JOIN (
    SELECT customer_id,
           count(*) AS orders_count,
           count(DISTINCT (placed_at AT TIME ZONE 'UTC')::date) AS purchases,
           sum(gross_amount) AS gross_revenue,
           sum(net_amount) AS net_revenue,
           coalesce(sum(margin), 0) AS margin,
           min(placed_at) AS first_purchase_at,
           max(placed_at) AS last_purchase_at
    FROM seg_orders
    WHERE {PURCHASE_FILTER}
    GROUP BY customer_id
) AS a ON a.customer_id = q.customer_id
WHERE p.customer_id = q.customer_id
""")


async def rebuild_order_aggregates(session: AsyncSession, currency: str) -> None:
    """Every customer's order aggregates from seg_orders, set-based (bulk loads, repairs).

    The same definitions as ``refresh_orders``; the integration tests check both agree.
    """
    await session.execute(
        text(
            "INSERT INTO customer_profiles (customer_id) SELECT DISTINCT customer_id FROM seg_orders ON CONFLICT DO NOTHING"
        )
    )
    await session.execute(_REBUILD_ALL, {"currency": currency})
