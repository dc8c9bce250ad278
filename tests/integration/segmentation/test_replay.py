"""Rebuilding the projection from scratch by replaying the topics: a new consumer group
(the service's handlers) on an empty, migrated database converges to the same rows as the
live service — merges, returns, out-of-order snapshots and erasure included — and the
set-based aggregate rebuild agrees with the per-event one."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from relacja_contracts.events import (
    ConsentGrantedV1,
    CustomerErasedV1,
    CustomerRegisteredV1,
    CustomersMergedV1,
    OrderReturnedV1,
    TicketOpenedV1,
)
from relacja_devstack import Stack
from relacja_messaging import EventConsumer
from relacja_segmentation.app.projection import rebuild_order_aggregates
from relacja_segmentation.consumers import handlers

from ...support import eventually
from .conftest import CONSUMED_WITHIN, order_event

NOW = datetime.now(UTC)

COLUMNS = (
    "customer_id, kind, lifecycle_stage, tags, consents, erased, orders_count, purchases, gross_revenue, net_revenue, margin, "
    "avg_order_value, first_purchase_at, last_purchase_at, complaints, tickets, satisfaction_score"
)


async def rows(url: str, ids: list[uuid.UUID]) -> list[dict]:
    connection = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        found = await connection.fetch(
            f"SELECT {COLUMNS} FROM customer_profiles WHERE customer_id = ANY($1) ORDER BY customer_id", ids
        )
        return [dict(r) for r in found]
    finally:
        await connection.close()


async def test_replaying_every_event_into_an_empty_database_rebuilds_the_same_projection(
    stack: Stack, api, publish, scratch_url
) -> None:
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    returned_order = uuid.uuid4()
    for customer in (a, b, c):
        await publish(
            CustomerRegisteredV1(
                customer_id=customer,
                kind="company",
                display_name="x",
                lifecycle_stage="customer",
                registered_at=NOW,
                tags=[str(customer)[:4]],
            )
        )
    await publish(order_event(a, order_id=returned_order, gross="80.00", occurred_at=NOW))
    await publish(
        order_event(
            a,
            order_id=returned_order,
            model=OrderReturnedV1,
            status="delivered",
            gross="80.00",
            returned="30.00",
            occurred_at=NOW + timedelta(hours=1),
            return_id=uuid.uuid4(),
            returned_lines=[{"line_no": 1, "sku": "S", "quantity": 1, "amount": "30.00"}],
            refund_amount="36.90",
        )
    )
    await publish(order_event(b, gross="20.00", placed_at=NOW - timedelta(days=40)))
    await publish(
        TicketOpenedV1(
            customer_id=b,
            ticket_id=uuid.uuid4(),
            type="complaint",
            channel="phone",
            priority="high",
            status="new",
            opened_at=NOW,
            occurred_at=NOW,
        )
    )
    await publish(CustomersMergedV1(customer_id=a, merged_customer_id=b, merged_at=NOW))
    await publish(order_event(b, gross="7.00", placed_at=NOW - timedelta(days=2)))  # after the merge: lands on a
    await publish(
        ConsentGrantedV1(customer_id=c, consent_id=uuid.uuid4(), purpose="profiling", source="x", occurred_at=NOW)
    )
    await publish(order_event(c, gross="11.00"))
    await publish(CustomerErasedV1(customer_id=c, erased_at=NOW))

    live_url = stack.database_url("segmentation")

    async def live_done():
        # Customers, orders and tickets are three topics (and a, b, c three keys): wait for the
        # effect of every event above before taking the live rows as the reference.
        found = await rows(live_url, [a, c])
        by_id = {r["customer_id"]: r for r in found}
        if set(by_id) != {a, c}:
            return None
        live_a, live_c = by_id[a], by_id[c]
        a_done = (
            live_a["orders_count"] == 3
            and live_a["net_revenue"] == Decimal("77")
            and live_a["complaints"] == 1
            and sorted(live_a["tags"]) == sorted({str(a)[:4], str(b)[:4]})
        )
        return found if a_done and live_c["erased"] and live_c["orders_count"] == 1 else None

    live = await eventually(live_done, timeout=CONSUMED_WITHIN)

    engine = create_async_engine(scratch_url)
    consumer = EventConsumer(
        f"segmentation.replay-{uuid.uuid4().hex[:8]}",
        handlers,
        async_sessionmaker(engine, expire_on_commit=False),
        stack.bootstrap_servers,
    )
    task = asyncio.create_task(consumer.run())
    try:
        last: list = []

        async def replayed():
            found = await rows(scratch_url, [a, b, c])
            last[:] = found
            return found if found == live else None

        try:
            # The new group replays every event of the session (every earlier test's customers
            # and orders, each re-scored): 12 s in a full run on a quiet machine, 75 s while
            # customer updates were retried before being dead-lettered. Room for a loaded machine.
            await eventually(replayed, timeout=180, interval=0.5)
        except AssertionError:
            raise AssertionError(f"replayed {last} != live {live}") from None
        assert not await rows(scratch_url, [b])  # merged away in the replay too
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    try:
        # The set-based rebuild of the aggregates gives the same rows as the per-event upkeep.
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions() as session, session.begin():
            await rebuild_order_aggregates(session, "PLN")
        assert await rows(scratch_url, [a, c]) == live
    finally:
        await engine.dispose()
