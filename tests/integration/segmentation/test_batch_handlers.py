"""The set-based batch handlers of order, ticket and registration events, on a scratch database migrated
to the segmentation head: a batch with several events of the same customer, out of offset
order, leaves the same rows (aggregates, scores, segment membership) as the same events
applied one at a time; a replayed batch changes nothing and writes no event.

The two paths run on mirrored customers in one database: the same orders (ids, amounts,
days) for a customer applied one by one and for its twin applied as one batch.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from relacja_contracts import CloudEvent, EventPayload
from relacja_contracts.events import (
    CustomerRegisteredV1,
    OrderCancelledV1,
    OrderDeliveredV1,
    OrderPaidV1,
    OrderPlacedV1,
    OrderReturnedV1,
    TicketOpenedV1,
    TicketResolvedV1,
)
from relacja_segmentation.app.scoring import recompute_all
from relacja_segmentation.consumers import handlers
from relacja_segmentation.settings import get_settings

from .conftest import order_event

NOW = datetime.now(UTC)

PROFILE = (
    "orders_count, purchases, gross_revenue, net_revenue, margin, avg_order_value, first_purchase_at, "
    "last_purchase_at, tickets, complaints, r_score, f_score, m_score, rfm_segment, abc_class, quadrant"
)


def pairs(payloads: Sequence[EventPayload]) -> list[tuple[CloudEvent, EventPayload]]:
    return [(CloudEvent.for_payload(p, source="/relacja/tests"), p) for p in payloads]


async def one_by_one(sessions: async_sessionmaker[AsyncSession], payloads: Sequence[EventPayload]) -> None:
    for event, payload in pairs(payloads):
        registration = handlers.get(event.type)
        assert registration is not None
        async with sessions() as session, session.begin():
            await registration.handler(session, event, payload)


async def as_batch(sessions: async_sessionmaker[AsyncSession], payloads: Sequence[EventPayload]) -> None:
    """The way the consumer hands a fetched run of events to their batch handler."""
    batch = handlers.get(payloads[0].event_type).batch  # type: ignore[union-attr]
    assert batch is not None
    assert all(handlers.get(p.event_type).batch is batch for p in payloads)  # type: ignore[union-attr]
    async with sessions() as session, session.begin():
        await batch(session, pairs(payloads))


def scenario(customer: uuid.UUID, other: uuid.UUID, ids: dict[str, uuid.UUID]) -> list[EventPayload]:
    """Several orders of ``customer`` (and one of ``other``), newer snapshots before older ones."""
    day = NOW - timedelta(days=20)
    o1: dict[str, Any] = {"order_id": ids["o1"], "placed_at": day, "gross": "310.00", "cost": "100.00"}
    o2: dict[str, Any] = {
        "order_id": ids["o2"],
        "placed_at": day + timedelta(days=5),
        "gross": "120.00",
        "cost": "40.00",
    }
    o3: dict[str, Any] = {
        "order_id": ids["o3"],
        "placed_at": day + timedelta(days=6),
        "gross": "999.00",
        "cost": "1.00",
    }
    o4: dict[str, Any] = {
        "order_id": ids["o4"],
        "placed_at": day + timedelta(days=7),
        "gross": "80.00",
        "cost": "20.00",
    }
    return [
        # o1: delivered (newest) arrives first, then the older placed and paid snapshots.
        order_event(customer, model=OrderDeliveredV1, status="delivered", occurred_at=NOW - timedelta(hours=1), **o1),
        order_event(customer, model=OrderPlacedV1, status="placed", occurred_at=NOW - timedelta(hours=3), **o1),
        order_event(customer, model=OrderPaidV1, status="paid", occurred_at=NOW - timedelta(hours=2), **o1),
        order_event(customer, model=OrderPlacedV1, status="placed", occurred_at=NOW - timedelta(hours=3), **o2),
        # o3: placed, then cancelled: no purchase.
        order_event(customer, model=OrderPlacedV1, status="placed", occurred_at=NOW - timedelta(hours=3), **o3),
        order_event(
            customer,
            model=OrderCancelledV1,
            status="cancelled",
            occurred_at=NOW - timedelta(hours=2),
            cancelled_from="placed",
            refund_amount=Decimal("0"),
            **o3,
        ),
        # o4: of the other customer, placed then fully returned: no purchase either.
        order_event(other, model=OrderPlacedV1, status="delivered", occurred_at=NOW - timedelta(hours=3), **o4),
        order_event(
            other,
            model=OrderReturnedV1,
            status="delivered",
            returned="80.00",
            occurred_at=NOW - timedelta(hours=2),
            return_id=uuid.uuid4(),
            returned_lines=[],
            refund_amount=Decimal("80.00"),
            **o4,
        ),
    ]


async def one_row(db: asyncpg.Connection, query: str, *args: object) -> asyncpg.Record:
    row = await db.fetchrow(query, *args)
    assert row is not None
    return row


async def profile(db: asyncpg.Connection, customer: uuid.UUID) -> dict:
    return dict(await one_row(db, f"SELECT {PROFILE} FROM customer_profiles WHERE customer_id = $1", customer))


async def test_a_batch_leaves_the_rows_the_events_one_by_one_leave_and_a_replayed_batch_is_a_no_op(
    scratch_url: str,
) -> None:
    engine = create_async_engine(scratch_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    db = await asyncpg.connect(scratch_url.replace("+asyncpg", ""))
    try:
        segment_id = uuid.uuid4()
        await db.execute(
            "INSERT INTO segments (id, name, rule) VALUES ($1, 'batch-repeat-buyers', $2::jsonb)",
            segment_id,
            json.dumps({"field": "purchases", "op": "gte", "value": 3}),
        )
        # A population to score against: 30 customers with one or two earlier orders.
        population = [uuid.uuid4() for _ in range(30)]
        base: list[EventPayload] = []
        for i, customer in enumerate(population):
            for k in range(1 + i % 2):
                placed_at = NOW - timedelta(days=40 + 11 * i + 3 * k)
                base.append(order_event(customer, gross=f"{50 + 7 * i}.00", cost="10.00", placed_at=placed_at))
        # The twins under test have one earlier purchase each, too. (Not the other twins: their
        # scores are compared, and a key equal to a stored boundary's but for the id — theirs
        # would stay the boundary twin's own — is decided by the id, which twins do not share.)
        single, batched = uuid.uuid4(), uuid.uuid4()
        single_other, batched_other = uuid.uuid4(), uuid.uuid4()
        for customer in (single, batched):
            base.append(order_event(customer, gross="77.00", cost="7.00", placed_at=NOW - timedelta(days=90)))
        await as_batch(sessions, base)
        async with sessions() as session, session.begin():
            await recompute_all(session, get_settings())

        await one_by_one(sessions, scenario(single, single_other, {k: uuid.uuid4() for k in ("o1", "o2", "o3", "o4")}))
        batch = scenario(batched, batched_other, {k: uuid.uuid4() for k in ("o1", "o2", "o3", "o4")})
        await as_batch(sessions, batch)

        for one, many in ((single, batched), (single_other, batched_other)):
            assert await profile(db, many) == await profile(db, one)
        expected = await profile(db, batched)
        # base 77 + o1 310 + o2 120; o3 cancelled; three purchase days.
        assert (expected["orders_count"], expected["purchases"], str(expected["net_revenue"])) == (3, 3, "507.0000")
        assert expected["rfm_segment"] is not None and expected["abc_class"] is not None
        other = await profile(db, batched_other)
        assert (other["orders_count"], other["r_score"]) == (0, None)  # o4 fully returned: no purchase
        statuses = {
            r["order_id"]: r["status"]
            for r in await db.fetch(
                "SELECT order_id, status FROM seg_orders WHERE order_id = ANY($1::uuid[])",
                [p.order_id for p in batch],  # type: ignore[attr-defined]
            )
        }
        assert sorted(statuses.values()) == ["cancelled", "delivered", "delivered", "placed"]
        members = {
            r["customer_id"]
            for r in await db.fetch("SELECT customer_id FROM segment_members WHERE segment_id = $1", segment_id)
        }
        assert {single, batched} <= members and not {single_other, batched_other} & members

        # The same batch again (a replay that got past the inbox): no row changes, no event.
        before = (await profile(db, batched), await profile(db, batched_other), await db.fetchval(OUTBOX_COUNT))
        await as_batch(sessions, batch)
        await as_batch(sessions, list(reversed(batch)))
        after = (await profile(db, batched), await profile(db, batched_other), await db.fetchval(OUTBOX_COUNT))
        assert after == before
    finally:
        await db.close()
        await engine.dispose()


OUTBOX_COUNT = "SELECT count(*) FROM outbox_events"


async def test_a_batch_of_ticket_events_counts_each_ticket_once_with_its_newest_type(scratch_url: str) -> None:
    engine = create_async_engine(scratch_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    db = await asyncpg.connect(scratch_url.replace("+asyncpg", ""))
    try:
        customer, twin = uuid.uuid4(), uuid.uuid4()

        def tickets(of: uuid.UUID, ids: list[uuid.UUID]) -> list[EventPayload]:
            opened = NOW - timedelta(days=2)
            common = {"customer_id": of, "priority": "normal", "channel": "email"}
            return [
                # The newer snapshot (resolved, a complaint) comes before the opening one.
                TicketResolvedV1(
                    ticket_id=ids[0],
                    type="complaint",
                    status="resolved",
                    business_seconds=600,
                    opened_at=opened,
                    occurred_at=NOW - timedelta(hours=1),
                    **common,
                ),
                TicketOpenedV1(
                    ticket_id=ids[0],
                    type="question",
                    status="new",
                    opened_at=opened,
                    occurred_at=NOW - timedelta(hours=5),
                    **common,
                ),
                TicketOpenedV1(
                    ticket_id=ids[1],
                    type="question",
                    status="new",
                    opened_at=opened,
                    occurred_at=NOW - timedelta(hours=4),
                    **common,
                ),
            ]

        ids = [uuid.uuid4(), uuid.uuid4()]
        await one_by_one(sessions, tickets(customer, ids))
        await as_batch(sessions, tickets(twin, [uuid.uuid4(), uuid.uuid4()]))
        for who in (customer, twin):
            row = await one_row(db, "SELECT tickets, complaints FROM customer_profiles WHERE customer_id = $1", who)
            assert (row["tickets"], row["complaints"]) == (2, 1)
    finally:
        await db.close()
        await engine.dispose()


async def test_a_batch_of_registrations_leaves_the_profiles_one_by_one_leaves(scratch_url: str) -> None:
    engine = create_async_engine(scratch_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    db = await asyncpg.connect(scratch_url.replace("+asyncpg", ""))
    try:
        await db.execute(
            "INSERT INTO segments (id, name, rule) VALUES ($1, 'batch-vips', $2::jsonb)",
            uuid.uuid4(),
            json.dumps({"tag": "vip"}),
        )

        def registrations(a: uuid.UUID, b: uuid.UUID) -> list[EventPayload]:
            def registered(customer: uuid.UUID, tags: list[str], days: int) -> CustomerRegisteredV1:
                return CustomerRegisteredV1(
                    customer_id=customer,
                    kind="person",
                    display_name="T",
                    lifecycle_stage="customer",
                    registered_at=NOW - timedelta(days=days),
                    tags=tags,
                )

            # b registered twice in the batch: the later registration wins, as one by one.
            return [registered(a, ["vip"], 10), registered(b, ["vip"], 20), registered(b, ["b2b"], 5)]

        single = (uuid.uuid4(), uuid.uuid4())
        batched = (uuid.uuid4(), uuid.uuid4())
        await one_by_one(sessions, registrations(*single))
        await as_batch(sessions, registrations(*batched))
        query = (
            "SELECT p.tags, p.registered_at, p.kind, p.lifecycle_stage, "
            "exists(SELECT 1 FROM segment_members m WHERE m.customer_id = p.customer_id) AS member "
            "FROM customer_profiles p WHERE customer_id = $1"
        )
        for one, many in zip(single, batched, strict=True):
            assert dict(await one_row(db, query, many)) == dict(await one_row(db, query, one))
        assert [(await one_row(db, query, c))["member"] for c in batched] == [True, False]
    finally:
        await db.close()
        await engine.dispose()
