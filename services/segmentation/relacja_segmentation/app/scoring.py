"""RFM, ABC and quadrant scores in the database: one customer at a time, or everybody.

Scores are relative — a customer's quintile depends on everybody else — so there are two
paths:

* ``recompute_all`` (schedule and ``POST /recomputations``): reads the aggregates of all
  customers with a purchase as arrays, scores them with the vectorised domain functions
  (no Python loop per customer), writes back only the rows whose scores changed, emits
  ``CustomerSegmentChangedV1`` for each changed dimension set-based in SQL, stores the
  quintile/ABC boundaries and the median margin, and refreshes every rule-based segment.
* ``score_customers`` (the customers a consumer batch touched; ``score_customer`` for one):
  places each customer against the boundaries of the last full recomputation — exactly
  the score it would get if nobody else had changed — and emits an event when a
  dimension changed (set-based: one read, one write, one event statement for the batch).
  Until the first full recomputation nobody is scored.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain import abc, loyalty, rfm
from ..events import bulk_params, changed_events_sql
from ..settings import SegmentationSettings
from .membership import load_segments, refresh_segment

__all__ = ["RecomputeResult", "recompute_all", "score_customer", "score_customers", "to_units", "EPOCH"]

log = logging.getLogger(__name__)

EPOCH = date(1970, 1, 1)
UNITS = Decimal(10_000)  # money as integer ten-thousandths in scoring
LOCK_KEY = 7_102_001  # pg advisory lock: one full recomputation at a time


def to_units(amount: Decimal) -> int:
    return int((amount * UNITS).to_integral_value())


@dataclass(frozen=True)
class RecomputeResult:
    reference_date: date
    customers_scored: int
    changes: dict[str, int]
    segments_refreshed: int
    duration_ms: int
    computed_at: datetime


async def score_customer(session: AsyncSession, customer_id: uuid.UUID, settings: SegmentationSettings) -> None:
    await score_customers(session, [customer_id], settings)


_CUSTOMER_CHANGES = """
SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:dimensions AS text[]), CAST(:olds AS text[]), CAST(:news AS text[]))
    AS c (customer_id, dimension, old, new)
"""

_WRITE_SCORES = text("""
UPDATE customer_profiles AS p
SET r_score = s.r, f_score = s.f, m_score = s.m, rfm_segment = s.rfm, abc_class = s.abc, quadrant = s.quadrant,
    scored_at = now()
FROM unnest(CAST(:ids AS uuid[]), CAST(:r AS smallint[]), CAST(:f AS smallint[]), CAST(:m AS smallint[]),
            CAST(:rfm AS text[]), CAST(:abc AS text[]), CAST(:quadrant AS text[]))
    AS s (customer_id, r, f, m, rfm, abc, quadrant)
WHERE p.customer_id = s.customer_id
""")


async def score_customers(
    session: AsyncSession, customer_ids: Sequence[uuid.UUID], settings: SegmentationSettings
) -> None:
    """Place each customer against the last full recomputation's boundaries: one read, one
    write and one event statement for all of them (an event per changed dimension)."""
    state = (await session.execute(text("SELECT parameters, boundaries FROM scoring_state WHERE id = 1"))).first()
    if state is None or not customer_ids:
        return
    # Locked in id order, as every writer of many profiles does (no deadlock between them).
    profiles = (
        await session.execute(
            text(
                "SELECT customer_id, purchases, last_purchase_at, net_revenue, margin, rfm_segment, abc_class, quadrant "
                "FROM customer_profiles WHERE customer_id = ANY(CAST(:ids AS uuid[])) ORDER BY customer_id FOR UPDATE"
            ),
            {"ids": sorted(set(customer_ids))},
        )
    ).all()
    if not profiles:
        return
    bounds = state.boundaries
    params = loyalty.LoyaltyParams(**state.parameters["loyalty"])
    today = (datetime.now(UTC).date() - EPOCH).days
    columns: dict[str, list[Any]] = {k: [] for k in ("ids", "r", "f", "m", "rfm", "abc", "quadrant")}
    changes: dict[str, list[Any]] = {k: [] for k in ("ids", "dimensions", "olds", "news")}
    for profile in profiles:
        new: dict[str, Any] = {"r": None, "f": None, "m": None, "rfm": None, "abc": None, "quadrant": None}
        if profile.purchases > 0:
            last_day = (profile.last_purchase_at.astimezone(UTC).date() - EPOCH).days
            monetary, margin = to_units(profile.net_revenue), to_units(profile.margin)
            tiebreak = str(profile.customer_id)
            for dimension in ("r", "f", "m"):
                new[dimension] = rfm.score_against(
                    rfm.key_of(dimension, last_day, profile.purchases, monetary, tiebreak), bounds[dimension]
                )
            new["rfm"] = rfm.segment_of(new["r"], new["f"])
            new["abc"] = abc.class_against(monetary, tiebreak, bounds["abc"])
            new["quadrant"] = loyalty.quadrant_of(
                margin, profile.purchases, today - last_day, bounds["profit_threshold"], params
            )
        columns["ids"].append(profile.customer_id)
        for key, value in new.items():
            columns[key].append(value)
        for dimension, old in (
            ("rfm", profile.rfm_segment),
            ("abc", profile.abc_class),
            ("quadrant", profile.quadrant),
        ):
            if old != new[dimension]:
                changes["ids"].append(profile.customer_id)
                changes["dimensions"].append(dimension)
                changes["olds"].append(old)
                changes["news"].append(new[dimension])
    await session.execute(_WRITE_SCORES, columns)
    if changes["ids"]:
        await session.execute(text(changed_events_sql(_CUSTOMER_CHANGES, "event")), {**changes, **bulk_params()})


_INPUT = """
CREATE TEMP TABLE scoring_input ON COMMIT DROP AS
SELECT (row_number() OVER (ORDER BY customer_id) - 1)::int AS pos,
       customer_id,
       ((last_purchase_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01') AS last_day,
       purchases,
       round(net_revenue * 10000)::bigint AS monetary,
       round(margin * 10000)::bigint AS margin
FROM customer_profiles
WHERE purchases > 0
"""

_ARRAYS = """
SELECT coalesce(array_agg(last_day ORDER BY pos), '{}'), coalesce(array_agg(purchases ORDER BY pos), '{}'),
       coalesce(array_agg(monetary ORDER BY pos), '{}'), coalesce(array_agg(margin ORDER BY pos), '{}')
FROM scoring_input
"""

# The six small scores travel packed in one int per customer (one array to encode instead
# of six): r + 8·f + 64·m + 512·segment + 8192·abc + 32768·quadrant.
_OUTPUT = """
CREATE TEMP TABLE scoring_output ON COMMIT DROP AS
SELECT i.customer_id,
       (s.code % 8)::smallint AS r, (s.code / 8 % 8)::smallint AS f, (s.code / 64 % 8)::smallint AS m,
       (CAST(:segment_names AS text[]))[s.code / 512 % 16 + 1] AS rfm,
       (CAST(:abc_names AS text[]))[s.code / 8192 % 4 + 1] AS abc,
       (CAST(:quadrant_names AS text[]))[s.code / 32768 + 1] AS quadrant
FROM unnest(CAST(:codes AS int[])) WITH ORDINALITY AS s (code, ord)
JOIN scoring_input AS i ON i.pos = s.ord - 1
"""

_CHANGES = """
CREATE TEMP TABLE scoring_changes ON COMMIT DROP AS
SELECT p.customer_id, o.r, o.f, o.m, o.rfm, o.abc, o.quadrant,
       p.rfm_segment AS old_rfm, p.abc_class AS old_abc, p.quadrant AS old_quadrant
FROM customer_profiles AS p
LEFT JOIN scoring_output AS o USING (customer_id)
WHERE (p.r_score, p.f_score, p.m_score, p.rfm_segment, p.abc_class, p.quadrant)
      IS DISTINCT FROM (o.r, o.f, o.m, o.rfm, o.abc, o.quadrant)
"""

_CHANGED_ROWS = " UNION ALL ".join(
    f"SELECT customer_id, '{dimension}' AS dimension, old_{dimension} AS old, {dimension} AS new "
    f"FROM scoring_changes WHERE old_{dimension} IS DISTINCT FROM {dimension}"
    for dimension in ("rfm", "abc", "quadrant")
)

_APPLY = """
UPDATE customer_profiles AS p
SET r_score = c.r, f_score = c.f, m_score = c.m, rfm_segment = c.rfm, abc_class = c.abc, quadrant = c.quadrant, scored_at = now()
FROM scoring_changes AS c
WHERE p.customer_id = c.customer_id
"""

_STATE = """
INSERT INTO scoring_state (id, computed_at, reference_date, customers_scored, duration_ms, parameters, boundaries)
VALUES (1, now(), :reference_date, :n, :duration_ms, CAST(:parameters AS jsonb), CAST(:boundaries AS jsonb))
ON CONFLICT (id) DO UPDATE SET computed_at = excluded.computed_at, reference_date = excluded.reference_date,
    customers_scored = excluded.customers_scored, duration_ms = excluded.duration_ms,
    parameters = excluded.parameters, boundaries = excluded.boundaries
"""


async def recompute_all(
    session: AsyncSession, settings: SegmentationSettings, reference_date: date | None = None
) -> RecomputeResult:
    """Score everybody again, in the caller's transaction (which must be open)."""
    started = time.perf_counter()
    phases: dict[str, float] = {}

    def phase(name: str) -> None:
        phases[name] = round(time.perf_counter() - started - sum(phases.values()), 3)

    reference_date = reference_date or datetime.now(UTC).date()
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    # Every statement below is set-based; see membership.refresh_segment for why nested loops are off.
    await session.execute(text("SET LOCAL enable_nestloop = off"))
    await session.execute(text(_INPUT))
    await session.execute(text("ANALYZE scoring_input"))
    last_day_l, purchases_l, monetary_l, margin_l = (await session.execute(text(_ARRAYS))).one()
    last_day = np.asarray(last_day_l, dtype=np.int64)
    purchases = np.asarray(purchases_l, dtype=np.int64)
    monetary = np.asarray(monetary_l, dtype=np.int64)
    margin = np.asarray(margin_l, dtype=np.int64)
    n = len(last_day)
    phase("read")

    # Position = rank of the customer id (rows are ordered by id), so it is the id tie-break.
    scores = rfm.rfm_scores(last_day, purchases, monetary)
    classes = abc.abc_classes(monetary, settings.abc_cutoffs)
    threshold = loyalty.profit_threshold(margin)
    recency = (reference_date - EPOCH).days - last_day
    quadrants = loyalty.quadrant_codes(margin, purchases, recency, threshold, settings.loyalty)

    positions = np.arange(n)
    rfm_bounds = rfm.boundaries_of(last_day, purchases, monetary, positions)
    abc_bounds = abc.abc_boundaries(monetary, classes)
    boundary_positions = {int(b[-1]) for bs in rfm_bounds.values() for b in bs} | {
        int(b[-1]) for b in abc_bounds.values() if b
    }
    ids: dict[int, str] = dict(
        (
            await session.execute(
                text("SELECT pos, customer_id::text FROM scoring_input WHERE pos = ANY(:p)"),
                {"p": sorted(boundary_positions)},
            )
        ).all()
    )
    boundaries = {
        **{dim: [[*b[:-1], ids[int(b[-1])]] for b in bs] for dim, bs in rfm_bounds.items()},
        "abc": {name: ([b[0], ids[int(b[1])]] if b else None) for name, b in abc_bounds.items()},
        "profit_threshold": threshold,
    }

    phase("score")
    await session.execute(
        text(_OUTPUT),
        {
            "segment_names": list(rfm.RFM_SEGMENTS),
            "abc_names": list(abc.ABC_CLASSES),
            "quadrant_names": list(loyalty.QUADRANTS),
            "codes": (
                scores.r.astype(np.int32)
                + 8 * scores.f.astype(np.int32)
                + 64 * scores.m.astype(np.int32)
                + 512 * scores.segment_codes.astype(np.int32)
                + 8192 * classes.astype(np.int32)
                + 32768 * quadrants.astype(np.int32)
            ).tolist(),
        },
    )
    phase("write_scores")
    await session.execute(text(_CHANGES))
    phase("diff")
    changes: dict[str, int] = dict(
        (
            await session.execute(text(f"SELECT dimension, count(*) FROM ({_CHANGED_ROWS}) AS c GROUP BY dimension"))
        ).all()
    )
    await session.execute(text(changed_events_sql(_CHANGED_ROWS, "recomputation")), bulk_params())
    phase("events")
    await session.execute(text(_APPLY))
    phase("apply")

    segments = await load_segments(session)
    for segment in segments:
        await refresh_segment(session, segment.id, segment.name, segment.compiled(), "recomputation")
    phase("segments")

    duration_ms = int((time.perf_counter() - started) * 1000)
    parameters = {
        "abc_cutoffs": {"a": settings.abc_cutoff_a, "b": settings.abc_cutoff_b},
        "loyalty": {"min_purchases": settings.loyal_min_purchases, "max_recency_days": settings.loyal_max_recency_days},
        "currency": settings.currency,
    }
    await session.execute(
        text(_STATE),
        {
            "reference_date": reference_date,
            "n": n,
            "duration_ms": duration_ms,
            "parameters": json.dumps(parameters),
            "boundaries": json.dumps(boundaries),
        },
    )
    computed_at = datetime.now(UTC)
    log.info(
        "full recomputation: %d customers scored, changes %s, %d ms (phases in s: %s)", n, changes, duration_ms, phases
    )
    return RecomputeResult(
        reference_date,
        n,
        {d: int(changes.get(d, 0)) for d in ("rfm", "abc", "quadrant")},
        len(segments),
        duration_ms,
        computed_at,
    )
