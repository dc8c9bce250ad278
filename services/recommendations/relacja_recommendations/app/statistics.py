"""The pair statistics: counts kept current per order, recomputed in full on a schedule.

    apply_order_basket(session, order_id=, customer_id=, ..., kept=, default_ws=)
        one order snapshot in ONE statement: the order row (newest snapshot wins), the
        order's basket becomes ``kept``, and the counts move by the difference — −1 for
        every product and pair of the old basket, +1 for those of the new (baskets
        placed before the window start count for nothing); the customer is queued for
        the announcer when the basket changed. One round trip per order event is what
        lets the consumer keep up with thousands of order events a second
    recompute_all(session, settings)  → StatisticsState
        the window moves to now − window_days, and every count is rebuilt from the
        baskets in one set-based pass (``INSERT … SELECT … GROUP BY`` over a self-join of
        the basket items; the advisory lock makes replicas take turns)
    read_state(session)               → StatisticsState (window, baskets, products, pairs)

Why counts and not figures: support, confidence and lift are ratios of the counts
(domain/association.py), so an order changes a handful of counts, never every figure,
and the figures are computed when read. Pairs are stored once, ``product_a <
product_b``; every pair seen is kept (a pair under the minimum count today may pass it
with the next order), the minimum support and count filter when read.

Between two full recomputations the window start stays put, so a basket ageing out of
"the last 12 months" is dropped at the next recomputation (daily by default) — the
counts are exactly those of the baskets placed since the window start.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..settings import RecommendationsSettings

__all__ = [
    "LineFacts",
    "StatisticsState",
    "apply_order_basket",
    "default_window_start",
    "read_state",
    "recompute_all",
]

# pg_advisory_xact_lock key of the full recomputation ('reco' in ASCII).
_LOCK_KEY = 0x7265636F


@dataclass(frozen=True)
class StatisticsState:
    window_start: datetime | None
    baskets: int
    products: int
    pairs: int
    computed_at: datetime | None
    duration_ms: int | None


def default_window_start(settings: RecommendationsSettings) -> datetime:
    """The window start before the first full recomputation has fixed one."""
    return datetime.now(UTC) - timedelta(days=settings.window_days)


# One statement per order event: resolve the customer (merge survivor; none once erased),
# upsert the order if this snapshot is the newest, learn products first seen in it, make
# the basket the kept products (rows not kept deleted, the others upserted: disjoint rows,
# so the sub-statements never touch a row twice), move the counts by new − old (baskets
# placed before the window start count for nothing), and queue the customer for the
# announcer when the basket's products changed. ``old`` reads the basket as it was before
# the statement (every sub-statement sees the same snapshot). Data-modifying CTEs run to
# completion whether or not the final SELECT reads them.
_APPLY_ORDER = text("""
WITH ws AS (
    SELECT coalesce((SELECT window_start FROM rec_statistics_state WHERE id = 1), CAST(:default_ws AS timestamptz)) AS start
),
cust AS (
    SELECT CASE WHEN k.state IS NULL OR k.state = 'active' THEN CAST(:customer_id AS uuid)
                WHEN k.state = 'merged' THEN k.merged_into END AS id
    FROM (SELECT 1) AS one LEFT JOIN known_customers k ON k.customer_id = :customer_id
),
ord AS (
    INSERT INTO rec_orders (order_id, customer_id, status, placed_at, snapshot_at)
    SELECT :order_id, cust.id, :status, :placed_at, :occurred_at FROM cust
    ON CONFLICT (order_id) DO UPDATE SET customer_id = excluded.customer_id, status = excluded.status,
        placed_at = excluded.placed_at, snapshot_at = excluded.snapshot_at
    WHERE rec_orders.snapshot_at <= excluded.snapshot_at
    RETURNING order_id
),
learned AS (
    INSERT INTO rec_products (product_id, sku, category, list_price, unit_cost, currency)
    SELECT p, sku, category, price, cost, :currency
    FROM unnest(CAST(:line_products AS uuid[]), CAST(:line_skus AS text[]), CAST(:line_categories AS text[]),
                CAST(:line_prices AS numeric[]), CAST(:line_costs AS numeric[])) AS l(p, sku, category, price, cost)
    ON CONFLICT (product_id) DO NOTHING
    RETURNING 1
),
old AS (
    SELECT product_id, placed_at FROM rec_basket_items WHERE order_id = :order_id AND EXISTS (SELECT 1 FROM ord)
),
new AS (
    SELECT p AS product_id, q FROM unnest(CAST(:products AS uuid[]), CAST(:quantities AS int[])) AS u(p, q)
    WHERE EXISTS (SELECT 1 FROM ord)
),
gone AS (
    DELETE FROM rec_basket_items
    WHERE order_id = :order_id AND EXISTS (SELECT 1 FROM ord) AND product_id <> ALL(CAST(:products AS uuid[]))
    RETURNING 1
),
kept AS (
    INSERT INTO rec_basket_items (order_id, product_id, customer_id, placed_at, quantity)
    SELECT :order_id, new.product_id, cust.id, :placed_at, new.q FROM new, cust
    ON CONFLICT (order_id, product_id) DO UPDATE SET customer_id = excluded.customer_id,
        placed_at = excluded.placed_at, quantity = excluded.quantity
    RETURNING 1
),
old_in AS (SELECT old.product_id FROM old, ws WHERE old.placed_at >= ws.start),
new_in AS (SELECT new.product_id FROM new, ws WHERE CAST(:placed_at AS timestamptz) >= ws.start),
item_delta AS (
    SELECT product_id, sum(d)::int AS d
    FROM (SELECT product_id, -1 AS d FROM old_in UNION ALL SELECT product_id, 1 FROM new_in) AS x
    GROUP BY product_id HAVING sum(d) <> 0
),
pair_delta AS (
    SELECT a, b, sum(d)::int AS d
    FROM (
        SELECT x.product_id AS a, y.product_id AS b, -1 AS d FROM old_in x JOIN old_in y ON x.product_id < y.product_id
        UNION ALL
        SELECT x.product_id, y.product_id, 1 FROM new_in x JOIN new_in y ON x.product_id < y.product_id
    ) AS z
    GROUP BY a, b HAVING sum(d) <> 0
),
items AS (
    INSERT INTO rec_product_counts (product_id, basket_count) SELECT product_id, d FROM item_delta
    ON CONFLICT (product_id) DO UPDATE SET basket_count = rec_product_counts.basket_count + excluded.basket_count
    RETURNING 1
),
pairs AS (
    INSERT INTO rec_pair_counts (product_a, product_b, pair_count) SELECT a, b, d FROM pair_delta
    ON CONFLICT (product_a, product_b) DO UPDATE SET pair_count = rec_pair_counts.pair_count + excluded.pair_count
    RETURNING 1
),
n AS (
    INSERT INTO rec_statistics_state (id, window_start, basket_count)
    SELECT 1, ws.start, (EXISTS (SELECT 1 FROM new_in))::int - (EXISTS (SELECT 1 FROM old_in))::int FROM ws
    WHERE EXISTS (SELECT 1 FROM ord)
    ON CONFLICT (id) DO UPDATE SET basket_count = rec_statistics_state.basket_count + excluded.basket_count
    RETURNING 1
),
changed AS (
    SELECT EXISTS (SELECT product_id FROM old EXCEPT SELECT product_id FROM new)
        OR EXISTS (SELECT product_id FROM new EXCEPT SELECT product_id FROM old) AS yes
),
queued AS (
    INSERT INTO rec_refresh_queue (customer_id)
    SELECT cust.id FROM cust, changed WHERE cust.id IS NOT NULL AND changed.yes
    ON CONFLICT (customer_id) DO NOTHING
    RETURNING 1
)
SELECT (SELECT yes FROM changed) AS changed
""")


@dataclass(frozen=True)
class LineFacts:
    """What an order line tells about its product, for products the catalogue has not announced yet."""

    product_id: Hashable
    sku: str
    category: str | None
    unit_price: Decimal
    unit_cost: Decimal | None


async def apply_order_basket(
    session: AsyncSession,
    *,
    order_id: uuid.UUID,
    customer_id: uuid.UUID,
    status: str,
    placed_at: datetime,
    occurred_at: datetime,
    currency: str,
    lines: Sequence[LineFacts],
    kept: Mapping[Hashable, int],
    default_ws: datetime,
) -> bool:
    """Apply one order snapshot (one statement); True if its basket's products changed."""
    products = sorted(kept, key=str)
    learned = list({line.product_id: line for line in lines}.values())
    return bool(
        await session.scalar(
            _APPLY_ORDER,
            {
                "default_ws": default_ws,
                "order_id": order_id,
                "customer_id": customer_id,
                "status": status,
                "placed_at": placed_at,
                "occurred_at": occurred_at,
                "currency": currency,
                "line_products": [line.product_id for line in learned],
                "line_skus": [line.sku for line in learned],
                "line_categories": [line.category for line in learned],
                "line_prices": [line.unit_price for line in learned],
                "line_costs": [line.unit_cost for line in learned],
                "products": products,
                "quantities": [kept[p] for p in products],
            },
        )
    )


async def recompute_all(session: AsyncSession, settings: RecommendationsSettings) -> StatisticsState:
    """Rebuild every count from the baskets of the last ``window_days`` (in the caller's transaction)."""
    started = time.perf_counter()
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    # The pair aggregation hashes millions of groups: give it memory instead of spilling.
    await session.execute(text("SET LOCAL work_mem = '256MB'"))
    window_start = datetime.now(UTC) - timedelta(days=settings.window_days)
    await session.execute(text("TRUNCATE rec_pair_counts, rec_product_counts"))
    await session.execute(
        text(
            "INSERT INTO rec_product_counts (product_id, basket_count) "
            "SELECT product_id, count(*) FROM rec_basket_items WHERE placed_at >= :ws GROUP BY product_id"
        ),
        {"ws": window_start},
    )
    await session.execute(
        text("""
        INSERT INTO rec_pair_counts (product_a, product_b, pair_count)
        SELECT a.product_id, b.product_id, count(*)
        FROM rec_basket_items a
        JOIN rec_basket_items b ON b.order_id = a.order_id AND a.product_id < b.product_id
        WHERE a.placed_at >= :ws AND b.placed_at >= :ws
        GROUP BY a.product_id, b.product_id
        """),
        {"ws": window_start},
    )
    baskets = await session.scalar(
        text("SELECT count(DISTINCT order_id) FROM rec_basket_items WHERE placed_at >= :ws"), {"ws": window_start}
    )
    duration_ms = round((time.perf_counter() - started) * 1000)
    await session.execute(
        text("""
        INSERT INTO rec_statistics_state (id, window_start, basket_count, computed_at, duration_ms)
        VALUES (1, :ws, :n, now(), :ms)
        ON CONFLICT (id) DO UPDATE SET window_start = excluded.window_start, basket_count = excluded.basket_count,
            computed_at = excluded.computed_at, duration_ms = excluded.duration_ms
        """),
        {"ws": window_start, "n": baskets or 0, "ms": duration_ms},
    )
    return await read_state(session)


async def read_state(session: AsyncSession) -> StatisticsState:
    row = (
        await session.execute(
            text("""
            SELECT s.window_start, s.basket_count, s.computed_at, s.duration_ms,
                   (SELECT count(*) FROM rec_product_counts WHERE basket_count > 0) AS products,
                   (SELECT count(*) FROM rec_pair_counts WHERE pair_count > 0) AS pairs
            FROM (SELECT 1) AS one LEFT JOIN rec_statistics_state s ON s.id = 1
            """)
        )
    ).one()
    return StatisticsState(
        window_start=row.window_start,
        baskets=row.basket_count or 0,
        products=row.products,
        pairs=row.pairs,
        computed_at=row.computed_at,
        duration_ms=row.duration_ms,
    )
