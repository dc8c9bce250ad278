"""RFM and ABC on the CDNOW purchase log (tests/data/cdnow/CDNOW_master.txt, from the PyPI
package ``lifetimes``) — the service's SQL aggregation and vectorised scoring, run in a
migrated database, against an independent straightforward computation written here with
plain Python sorting.

CDNOW has 23,570 customers; about half of them bought exactly once, so frequency is the
textbook case of heavy ties: cutting the frequency *values* at quintiles gives fewer than
five groups, while the service's rank-based scores give five groups of one fifth each.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import asyncpg
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from relacja_segmentation.app.projection import rebuild_order_aggregates
from relacja_segmentation.app.scoring import recompute_all
from relacja_segmentation.domain.rfm import segment_of
from relacja_segmentation.settings import SegmentationSettings

DATA = Path(__file__).resolve().parents[2] / "data" / "cdnow" / "CDNOW_master.txt"
REFERENCE_DATE = date(1998, 7, 1)  # the log ends on 1998-06-30


def read_log() -> list[tuple[int, date, Decimal]]:
    rows = []
    for line in DATA.read_text().splitlines():
        parts = line.split()
        if len(parts) != 4 or not parts[0].isdigit():
            continue  # the header line
        customer, day, _cds, dollars = parts
        rows.append((int(customer), date(int(day[:4]), int(day[4:6]), int(day[6:])), Decimal(dollars)))
    return rows


def reference_scores(rows) -> dict[int, tuple[int, int, int, str, str]]:
    """(R, F, M, segment, ABC class) per customer, computed the plain way from the docs' rules."""
    days: dict[int, set[date]] = defaultdict(set)
    cents: dict[int, int] = defaultdict(int)
    for customer, day, dollars in rows:
        if dollars > 0:  # a purchase: net amount above zero
            days[customer].add(day)
            cents[customer] += int(dollars * 100)
    customers = sorted(days)
    n = len(customers)
    last = {c: max(days[c]).toordinal() for c in customers}
    freq = {c: len(days[c]) for c in customers}

    def scores(key) -> dict[int, int]:
        ranked = sorted(customers, key=key)
        return {c: 1 + (5 * position) // n for position, c in enumerate(ranked)}

    r = scores(lambda c: (last[c], freq[c], cents[c], c))
    f = scores(lambda c: (freq[c], last[c], cents[c], c))
    m = scores(lambda c: (cents[c], freq[c], last[c], c))
    total = sum(cents.values())
    abc, before = {}, 0
    for c in sorted(customers, key=lambda c: (-cents[c], c)):
        share_before = Fraction(before, total)
        abc[c] = "A" if share_before < Fraction(80, 100) else "B" if share_before < Fraction(95, 100) else "C"
        before += cents[c]
    return {c: (r[c], f[c], m[c], segment_of(r[c], f[c]), abc[c]) for c in customers}


def customer_uuid(cdnow_id: int) -> uuid.UUID:
    # UUID order (bytes) equals the CDNOW id order, so the last tie-break is the same in both.
    return uuid.UUID(int=cdnow_id)


async def test_cdnow_rfm_and_abc_match_an_independent_computation(scratch_url: str) -> None:
    rows = read_log()
    expected = reference_scores(rows)
    assert len(expected) > 23_000

    connection = await asyncpg.connect(scratch_url.replace("+asyncpg", ""))
    try:
        await connection.copy_records_to_table(
            "seg_orders",
            records=[
                (
                    uuid.uuid4(),
                    customer_uuid(c),
                    "delivered",
                    datetime(d.year, d.month, d.day, 12, tzinfo=UTC),
                    "USD",
                    v,
                    v,
                    None,
                    datetime.now(UTC),
                )
                for c, d, v in rows
            ],
            columns=[
                "order_id",
                "customer_id",
                "status",
                "placed_at",
                "currency",
                "gross_amount",
                "net_amount",
                "margin",
                "occurred_at",
            ],
        )
    finally:
        await connection.close()

    settings = SegmentationSettings(database_url=scratch_url, currency="USD")
    engine = create_async_engine(scratch_url)
    try:
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions() as session, session.begin():
            await rebuild_order_aggregates(session, settings.currency)
            result = await recompute_all(session, settings, REFERENCE_DATE)
        connection = await asyncpg.connect(scratch_url.replace("+asyncpg", ""))
        try:
            got_rows = await connection.fetch(
                "SELECT customer_id, r_score, f_score, m_score, rfm_segment, abc_class FROM customer_profiles WHERE rfm_segment IS NOT NULL"
            )
            one_time_buyers = await connection.fetchval("SELECT count(*) FROM customer_profiles WHERE purchases = 1")
        finally:
            await connection.close()
    finally:
        await engine.dispose()

    assert result.customers_scored == len(expected)
    got = {
        row["customer_id"].int: (row["r_score"], row["f_score"], row["m_score"], row["rfm_segment"], row["abc_class"])
        for row in got_rows
    }
    mismatches = [c for c in expected if got.get(c) != expected[c]]
    assert not mismatches, (
        f"{len(mismatches)} customers differ, e.g. {mismatches[0]}: {got.get(mismatches[0])} != {expected[mismatches[0]]}"
    )

    # The ties problem: most customers bought on one day only ...
    n = len(expected)
    assert one_time_buyers > n / 2
    # ... so cutting the frequency values at their quintiles collapses groups: the 20 % and
    # 40 % quantiles are both 1, and scoring by value gives fewer than five groups ...
    days: dict[int, set[date]] = defaultdict(set)
    for c, d, v in rows:
        if v > 0:
            days[c].add(d)
    frequencies = sorted(len(d) for d in days.values())
    cuts = [frequencies[len(frequencies) * q // 5] for q in (1, 2, 3, 4)]
    assert cuts[0] == cuts[1] == 1
    by_value = {1 + sum(1 for cut in cuts if f > cut) for f in frequencies}
    assert len(by_value) < 5
    # ... while ranks give five groups of one fifth each.
    for dimension in range(3):
        sizes = [sum(1 for s in got.values() if s[dimension] == score) for score in range(1, 6)]
        assert max(sizes) - min(sizes) <= 1 and sum(sizes) == n
    # ABC: class A is the smallest top list reaching 80 % of revenue.
    classes = [s[4] for s in got.values()]
    assert classes.count("A") < classes.count("C")
