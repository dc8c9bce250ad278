"""The RFM and ABC distribution endpoints against figures known in advance.

The running service's distributions cover every customer of the shared test database, so
their exact figures cannot be known there. Here the service's routes run in-process on a
fresh migrated database holding only ten customers whose purchases put each into a segment
and an ABC class worked out by hand (below) from the rules in relacja_segmentation.domain.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from relacja_devstack import Stack
from relacja_segmentation.api.analysis import router as analysis_router
from relacja_segmentation.app.projection import rebuild_order_aggregates
from relacja_segmentation.settings import SegmentationSettings, get_settings
from relacja_servicekit import create_service_app

REFERENCE_DATE = date(2026, 3, 1)

# (days from the last purchase to the reference date, purchase days, net revenue, segment, ABC class).
# Ten customers, so each score is two ranks. Last purchases are 1, 11, ... 91 days ago: R = 5, 5,
# 4, 4, ... 1, 1 in this order. Purchase days are all different, F follows them: the two with 1
# and 2 days have F = 1, 3 and 4 F = 2, and so on. The segment is the (R, F) cell of the grid.
# ABC: revenue 9000 in all; the cumulative share before each customer (highest first) is
# 0, .44, .61, .72 (A), .81, .88, .92 (B), .96, .98, .99 (C).
CUSTOMERS = [
    (1, 10, "4000", "champions", "A"),  # R5 F5
    (11, 2, "1500", "new", "A"),  # R5 F1
    (21, 9, "1000", "loyal", "A"),  # R4 F5
    (31, 8, "800", "loyal", "A"),  # R4 F4
    (41, 7, "600", "loyal", "B"),  # R3 F4
    (51, 4, "400", "about_to_sleep", "B"),  # R3 F2
    (61, 6, "300", "at_risk", "B"),  # R2 F3
    (71, 3, "200", "hibernating", "C"),  # R2 F2
    (81, 5, "150", "at_risk", "C"),  # R1 F3
    (91, 1, "50", "lost", "C"),  # R1 F1
]
TOTAL = sum(Decimal(c[2]) for c in CUSTOMERS)


def orders_of(
    customer_id: uuid.UUID, days_ago: int, purchase_days: int, revenue: Decimal, currency: str
) -> list[tuple]:
    """One order a day on ``purchase_days`` consecutive days ending ``days_ago`` before the reference date."""
    amounts = [Decimal(10)] * (purchase_days - 1) + [revenue - 10 * (purchase_days - 1)]
    days = [REFERENCE_DATE - timedelta(days=days_ago + i) for i in range(purchase_days)]
    return [
        (
            uuid.uuid4(),
            customer_id,
            "delivered",
            datetime.combine(day, time(12), UTC),
            currency,
            amount,
            amount,
            None,
            datetime.now(UTC),
        )
        for day, amount in zip(days, amounts, strict=True)
    ]


@pytest.fixture
async def scratch_api(stack: Stack, scratch_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The distribution and recomputation routes on the scratch database (no consumer, no relay)."""
    settings = SegmentationSettings(
        database_url=scratch_url, kafka_bootstrap=stack.bootstrap_servers, run_relay=False, run_consumers=False
    )
    app = create_service_app(
        name="segmentation", title="segmentation-under-test", settings=settings, routers=[analysis_router]
    )
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=60
        ) as client:
            yield client


async def test_distributions_put_known_customers_where_they_belong(
    scratch_url: str, scratch_api: httpx.AsyncClient
) -> None:
    currency = get_settings().currency  # the routes read the process's settings
    rows = [
        o
        for days_ago, days, revenue, _, _ in CUSTOMERS
        for o in orders_of(uuid.uuid4(), days_ago, days, Decimal(revenue), currency)
    ]
    connection = await asyncpg.connect(scratch_url.replace("+asyncpg", ""))
    try:
        await connection.copy_records_to_table(
            "seg_orders",
            records=rows,
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
    engine = create_async_engine(scratch_url)
    try:
        async with async_sessionmaker(engine)() as session, session.begin():
            await rebuild_order_aggregates(session, currency)
    finally:
        await engine.dispose()
    recomputed = await scratch_api.post(
        "/api/v1/segmentation/recomputations", json={"reference_date": REFERENCE_DATE.isoformat()}
    )
    assert recomputed.status_code == 200, recomputed.text
    assert recomputed.json()["customers_scored"] == len(CUSTOMERS)

    rfm = (await scratch_api.get("/api/v1/segmentation/rfm")).json()
    assert rfm["customers_scored"] == len(CUSTOMERS) and Decimal(rfm["total_net_revenue"]) == TOTAL
    assert rfm["reporting_currency"] == currency
    got = {
        b["segment"]: (b["customers"], Decimal(b["net_revenue"]), b["customer_share"], b["revenue_share"])
        for b in rfm["segments"]
    }
    assert len(got) == 11 and got == expected_buckets(3, got)

    abc = (await scratch_api.get("/api/v1/segmentation/abc")).json()
    assert Decimal(abc["total_net_revenue"]) == TOTAL
    got = {
        c["abc_class"]: (c["customers"], Decimal(c["net_revenue"]), c["customer_share"], c["revenue_share"])
        for c in abc["classes"]
    }
    assert set(got) == {"A", "B", "C"} and got == expected_buckets(4, got)

    # The parameters the answers depend on are readable, and the last run says which it used.
    latest = (await scratch_api.get("/api/v1/segmentation/recomputations/latest")).json()
    settings = (await scratch_api.get("/api/v1/segmentation/settings")).json()
    assert latest["reference_date"] == REFERENCE_DATE.isoformat() and latest["customers_scored"] == len(CUSTOMERS)
    assert latest["parameters"] == {key: settings[key] for key in ("reporting_currency", "abc_cutoffs", "loyalty")}
    assert settings["reporting_currency"] == currency and abc["cutoffs"] == settings["abc_cutoffs"]


def expected_buckets(column: int, names) -> dict[str, tuple]:
    """(customers, net revenue, customer share, revenue share) per bucket name, from CUSTOMERS[column]."""
    counts = Counter(c[column] for c in CUSTOMERS)
    revenue: defaultdict[int | str, Decimal] = defaultdict(Decimal)
    for c in CUSTOMERS:
        revenue[c[column]] += Decimal(c[2])
    assert set(counts) <= set(names), f"buckets missing: {set(counts) - set(names)}"
    return {
        name: (
            counts[name],
            revenue[name],
            pytest.approx(counts[name] / len(CUSTOMERS), abs=1e-6),
            pytest.approx(float(revenue[name] / TOTAL), abs=1e-6),
        )
        for name in names
    }
