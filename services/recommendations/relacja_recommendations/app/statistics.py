"""The pair statistics: counts kept current per order, recomputed in full on a schedule.

    apply_orders(session, [OrderFacts], default_ws)
        a batch of order snapshots in ONE statement: the order rows (newest snapshot
        wins), each order's basket becomes its kept products, and the counts move by the
        difference — −1 for every product and pair of the old baskets, +1 for those of
        the new (baskets placed before the window start count for nothing); customers
        whose baskets changed are queued for the announcer. One statement per fetched
        batch of order events (the consumer's ``on_batch``), not per event, is what lets
        the consumer keep up with thousands of order events a second
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
    "OrderFacts",
    "StatisticsState",
    "apply_orders",
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


# One statement for a batch of order snapshots (at most one per order: the newest): resolve
# each customer (merge survivor; none once erased), upsert the orders whose snapshot is the
# newest, learn products first seen in them, make each applied order's basket its kept
# products (rows not kept deleted, the others upserted: disjoint rows, so no row is touched
# twice), move the counts by new − old (baskets placed before the window start count for
# nothing), and queue the customers whose baskets' products changed for the announcer.
# ``old`` reads the baskets as they were before the statement (every sub-statement sees the
# same snapshot); data-modifying CTEs run to completion whether or not the SELECT reads them.
_APPLY_ORDERS = text("""
WITH ws AS (
    SELECT coalesce((SELECT window_start FROM rec_statistics_state WHERE id = 1), CAST(:default_ws AS timestamptz)) AS start
),
input AS (
    SELECT * FROM unnest(CAST(:o_ids AS uuid[]), CAST(:o_customers AS uuid[]), CAST(:o_status AS text[]),
                         CAST(:o_placed AS timestamptz[]), CAST(:o_occurred AS timestamptz[]))
        AS i(order_id, customer_id, status, placed_at, occurred_at)
),
resolved AS (
    SELECT i.*, CASE WHEN k.state IS NULL OR k.state = 'active' THEN i.customer_id
                     WHEN k.state = 'merged' THEN k.merged_into END AS cid
    FROM input i LEFT JOIN known_customers k ON k.customer_id = i.customer_id
),
ord AS (
    INSERT INTO rec_orders (order_id, customer_id, status, placed_at, snapshot_at)
    SELECT order_id, cid, status, placed_at, occurred_at FROM resolved
    ON CONFLICT (order_id) DO UPDATE SET customer_id = excluded.customer_id, status = excluded.status,
        placed_at = excluded.placed_at, snapshot_at = excluded.snapshot_at
    WHERE rec_orders.snapshot_at <= excluded.snapshot_at
    RETURNING order_id
),
applied AS (SELECT r.order_id, r.cid, r.placed_at FROM resolved r JOIN ord USING (order_id)),
learned AS (
    INSERT INTO rec_products (product_id, sku, category, list_price, unit_cost, currency)
    SELECT * FROM unnest(CAST(:l_products AS uuid[]), CAST(:l_skus AS text[]), CAST(:l_categories AS text[]),
                         CAST(:l_prices AS numeric[]), CAST(:l_costs AS numeric[]), CAST(:l_currencies AS text[]))
    ON CONFLICT (product_id) DO NOTHING
    RETURNING 1
),
old AS (SELECT b.order_id, b.product_id, b.placed_at FROM rec_basket_items b JOIN applied a USING (order_id)),
new AS (
    SELECT u.order_id, u.product_id, u.q, a.placed_at, a.cid
    FROM unnest(CAST(:i_orders AS uuid[]), CAST(:i_products AS uuid[]), CAST(:i_quantities AS int[]))
        AS u(order_id, product_id, q)
    JOIN applied a USING (order_id)
),
gone AS (
    DELETE FROM rec_basket_items b USING applied a
    WHERE b.order_id = a.order_id
      AND NOT EXISTS (SELECT 1 FROM new n WHERE n.order_id = b.order_id AND n.product_id = b.product_id)
    RETURNING 1
),
kept AS (
    INSERT INTO rec_basket_items (order_id, product_id, customer_id, placed_at, quantity)
    SELECT order_id, product_id, cid, placed_at, q FROM new
    ON CONFLICT (order_id, product_id) DO UPDATE SET customer_id = excluded.customer_id,
        placed_at = excluded.placed_at, quantity = excluded.quantity
    RETURNING 1
),
old_in AS (SELECT old.order_id, old.product_id FROM old, ws WHERE old.placed_at >= ws.start),
new_in AS (SELECT new.order_id, new.product_id FROM new, ws WHERE new.placed_at >= ws.start),
item_delta AS (
    SELECT product_id, sum(d)::int AS d
    FROM (SELECT product_id, -1 AS d FROM old_in UNION ALL SELECT product_id, 1 FROM new_in) AS x
    GROUP BY product_id HAVING sum(d) <> 0
),
pair_delta AS (
    SELECT a, b, sum(d)::int AS d
    FROM (
        SELECT x.product_id AS a, y.product_id AS b, -1 AS d
        FROM old_in x JOIN old_in y ON x.order_id = y.order_id AND x.product_id < y.product_id
        UNION ALL
        SELECT x.product_id, y.product_id, 1
        FROM new_in x JOIN new_in y ON x.order_id = y.order_id AND x.product_id < y.product_id
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
    SELECT 1, ws.start, (SELECT count(DISTINCT order_id) FROM new_in) - (SELECT count(DISTINCT order_id) FROM old_in)
    FROM ws
    ON CONFLICT (id) DO UPDATE SET basket_count = rec_statistics_state.basket_count + excluded.basket_count
    RETURNING 1
),
changed AS (
    SELECT DISTINCT a.cid FROM applied a
    WHERE a.cid IS NOT NULL AND (
        EXISTS (SELECT product_id FROM old o WHERE o.order_id = a.order_id
                EXCEPT SELECT product_id FROM new n WHERE n.order_id = a.order_id)
        OR EXISTS (SELECT product_id FROM new n WHERE n.order_id = a.order_id
                   EXCEPT SELECT product_id FROM old o WHERE o.order_id = a.order_id)
    )
),
queued AS (
    INSERT INTO rec_refresh_queue (customer_id) SELECT cid FROM changed
    ON CONFLICT (customer_id) DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM changed
""")


@dataclass(frozen=True)
class LineFacts:
    """What an order line tells about its product, for products the catalogue has not announced yet."""

    product_id: Hashable
    sku: str
    category: str | None
    unit_price: Decimal
    unit_cost: Decimal | None


@dataclass(frozen=True)
class OrderFacts:
    """One order snapshot as the statistics need it: the order, its lines' products, its basket."""

    order_id: uuid.UUID
    customer_id: uuid.UUID
    status: str
    placed_at: datetime
    occurred_at: datetime
    currency: str
    lines: Sequence[LineFacts]
    kept: Mapping[Hashable, int]


async def apply_orders(session: AsyncSession, orders: Sequence[OrderFacts], default_ws: datetime) -> int:
    """Apply order snapshots in one statement (the newest per order wins, here and against the
    stored one); how many customers' baskets changed."""
    newest: dict[uuid.UUID, OrderFacts] = {}
    for facts in orders:
        held = newest.get(facts.order_id)
        if held is None or held.occurred_at <= facts.occurred_at:
            newest[facts.order_id] = facts
    chosen = list(newest.values())
    learned: dict[Hashable, tuple[LineFacts, str]] = {}
    for facts in chosen:
        for line in facts.lines:
            learned.setdefault(line.product_id, (line, facts.currency))
    items = [(facts.order_id, p, q) for facts in chosen for p, q in facts.kept.items()]
    return int(
        await session.scalar(
            _APPLY_ORDERS,
            {
                "default_ws": default_ws,
                "o_ids": [f.order_id for f in chosen],
                "o_customers": [f.customer_id for f in chosen],
                "o_status": [f.status for f in chosen],
                "o_placed": [f.placed_at for f in chosen],
                "o_occurred": [f.occurred_at for f in chosen],
                "l_products": list(learned),
                "l_skus": [line.sku for line, _ in learned.values()],
                "l_categories": [line.category for line, _ in learned.values()],
                "l_prices": [line.unit_price for line, _ in learned.values()],
                "l_costs": [line.unit_cost for line, _ in learned.values()],
                "l_currencies": [currency for _, currency in learned.values()],
                "i_orders": [order_id for order_id, _, _ in items],
                "i_products": [p for _, p, _ in items],
                "i_quantities": [q for _, _, q in items],
            },
        )
        or 0
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
    # Millions of pairs: inserting them into two B-trees row by row (random UUID keys) costs
    # several times the aggregation itself, so the indexes go and are built once, sorted,
    # after the insert. Same names as tables.py and the migration; TRUNCATE has taken the
    # table's exclusive lock already, and a failure rolls all of it back.
    await session.execute(text("ALTER TABLE rec_pair_counts DROP CONSTRAINT rec_pair_counts_pkey"))
    await session.execute(text("DROP INDEX ix_rec_pair_counts_b"))
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
    await session.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    await session.execute(
        text("ALTER TABLE rec_pair_counts ADD CONSTRAINT rec_pair_counts_pkey PRIMARY KEY (product_a, product_b)")
    )
    await session.execute(text("CREATE INDEX ix_rec_pair_counts_b ON rec_pair_counts (product_b)"))
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
