"""The transactional outbox and the relay, against the real PostgreSQL and broker."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from relacja_contracts import from_kafka_headers
from relacja_contracts.events import CustomerRegisteredV1
from relacja_contracts.topics import CUSTOMERS
from relacja_devstack import Stack
from relacja_messaging import Outbox, OutboxRelay
from relacja_messaging.relay import RelaySettings
from relacja_messaging.tables import outbox_events, relay_watermarks

from ..support import eventually, read_topic

outbox = Outbox("/relacja/tests")


def registered(customer_id: uuid.UUID | None = None) -> CustomerRegisteredV1:
    return CustomerRegisteredV1(
        customer_id=customer_id or uuid.uuid4(),
        kind="person",
        display_name="Test Person",
        lifecycle_stage="lead",
        registered_at=datetime.now(UTC),
    )


async def read_events(stack: Stack, event_ids: set[str]) -> list:
    return await read_topic(stack.bootstrap_servers, CUSTOMERS.name, header="ce_id", values=event_ids)


async def test_outbox_row_commits_and_rolls_back_with_the_callers_transaction(sessions) -> None:
    async with sessions() as session:
        async with session.begin():
            kept = await outbox.add(session, registered())
        with pytest.raises(RuntimeError):
            async with session.begin():
                await outbox.add(session, registered())
                raise RuntimeError("the state change failed")
        ids = (await session.execute(select(outbox_events.c.event_id))).scalars().all()
    assert [str(i) for i in ids] == [kept.id]


async def test_relay_publishes_in_order_with_cloudevents_headers_and_marks_rows(
    stack: Stack, sessions, scratch_engine
) -> None:
    customer = uuid.uuid4()
    async with sessions() as session, session.begin():
        events = [await outbox.add(session, registered(customer)) for _ in range(20)]
    relay = OutboxRelay(scratch_engine, stack.bootstrap_servers, RelaySettings(poll_interval=0.2))
    task = asyncio.create_task(relay.run())
    try:
        records = await read_events(stack, {e.id for e in events})
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert [from_kafka_headers(r.headers).id for r in records] == [e.id for e in events]
    assert {r.key for r in records} == {str(customer).encode()}
    assert len({r.partition for r in records}) == 1
    headers = dict(records[0].headers)
    assert headers["ce_type"] == b"relacja.customers.customer.registered.v1"
    assert headers["ce_source"] == b"/relacja/tests"
    assert headers["ce_subject"] == str(customer).encode()
    assert headers["content-type"] == b"application/json"
    assert CustomerRegisteredV1.model_validate_json(records[0].value).customer_id == customer
    async with sessions() as session:
        unpublished = await session.scalar(select(func.count()).where(outbox_events.c.published_at.is_(None)))
    assert unpublished == 0


async def test_relay_is_woken_by_notify_without_waiting_for_the_poll(stack: Stack, sessions, scratch_engine) -> None:
    relay = OutboxRelay(scratch_engine, stack.bootstrap_servers, RelaySettings(poll_interval=60))
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(1.5)  # let it start, check the broker and go to sleep on the 60 s poll
        async with sessions() as session, session.begin():
            await outbox.add(session, registered())
        started = asyncio.get_running_loop().time()

        async def published() -> bool:
            async with sessions() as session:
                return await session.scalar(select(func.count()).where(outbox_events.c.published_at.is_not(None))) == 1

        await eventually(published, timeout=10)
        assert asyncio.get_running_loop().time() - started < 5
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_relay_replays_the_retained_outbox_when_offsets_go_backwards(
    stack: Stack, sessions, scratch_engine
) -> None:
    """A broker that forgot its log acknowledges offsets below the watermark: the relay replays."""
    async with sessions() as session, session.begin():
        first = [await outbox.add(session, registered()) for _ in range(5)]

    async def all_published() -> bool:
        async with sessions() as session:
            return not await session.scalar(select(func.count()).where(outbox_events.c.published_at.is_(None)))

    first_relay = asyncio.create_task(
        OutboxRelay(scratch_engine, stack.bootstrap_servers, RelaySettings(poll_interval=0.2)).run()
    )
    try:
        await eventually(all_published)
    finally:
        first_relay.cancel()
        await asyncio.gather(first_relay, return_exceptions=True)
    async with sessions() as session:
        first_published = dict(
            (await session.execute(select(outbox_events.c.event_id, outbox_events.c.published_at))).all()
        )
    # Pretend the broker had acknowledged far higher offsets before, as if it restarted
    # and lost its log while this relay was down.
    async with scratch_engine.begin() as conn:
        await conn.execute(update(relay_watermarks).values(high_offset=10**12))
    async with sessions() as session, session.begin():
        # Same customer, so the same partition as a watermarked one: its acknowledged
        # offset is the one that comes back below the watermark.
        later = await outbox.add(session, registered(uuid.UUID(first[0].subject)))
    task = asyncio.create_task(
        OutboxRelay(scratch_engine, stack.bootstrap_servers, RelaySettings(poll_interval=0.2)).run()
    )
    try:

        async def republished() -> bool:
            """Every earlier row acknowledged by the broker again (published_at is stamped only
            after the acknowledgement), and the new one too."""
            async with sessions() as session:
                now = dict(
                    (await session.execute(select(outbox_events.c.event_id, outbox_events.c.published_at))).all()
                )
            return now[uuid.UUID(later.id)] is not None and all(
                now[event_id] is not None and now[event_id] > first_published[event_id] for event_id in first_published
            )

        await eventually(republished, timeout=30)
        async with sessions() as session:
            watermark = await session.scalar(select(func.max(relay_watermarks.c.high_offset)))
        assert watermark < 10**12
        # And the copies are on the broker: read from the offsets the relay recorded.
        records = await read_events(stack, {e.id for e in first} | {later.id})
        assert {from_kafka_headers(r.headers).id for r in records} == {e.id for e in first} | {later.id}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_operator_replay_since_a_time_republishes_only_newer_rows(stack: Stack, sessions, scratch_engine) -> None:
    async with sessions() as session, session.begin():
        older = await outbox.add(session, registered())
    async with sessions() as session:
        cutoff = await session.scalar(select(func.clock_timestamp()))
    async with sessions() as session, session.begin():
        newer = await outbox.add(session, registered())
    relay = OutboxRelay(scratch_engine, stack.bootstrap_servers, RelaySettings(poll_interval=0.2))
    task = asyncio.create_task(relay.run())

    async def published_count() -> int:
        async with sessions() as session:
            return await session.scalar(select(func.count()).where(outbox_events.c.published_at.is_not(None)))

    try:
        await eventually(lambda: _equals(published_count, 2))
        assert await OutboxRelay(scratch_engine, stack.bootstrap_servers).replay(since=cutoff) == 1
        await eventually(lambda: _equals(published_count, 2))
        records = await read_events(stack, {older.id, newer.id})
        ids = [from_kafka_headers(r.headers).id for r in records]
        assert ids.count(older.id) == 1
        assert ids.count(newer.id) == 2
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _equals(read, expected: int) -> bool:
    return await read() == expected


async def test_the_relay_deletes_published_rows_past_their_retention_and_nothing_unpublished(
    stack: Stack, sessions, scratch_engine
) -> None:
    async with sessions() as session, session.begin():
        old, recent, pending = [await outbox.add(session, registered()) for _ in range(3)]
        now = datetime.now(UTC)
        for event, published_at in ((old, now - timedelta(days=8)), (recent, now - timedelta(days=6)), (pending, None)):
            await session.execute(
                update(outbox_events)
                .where(outbox_events.c.event_id == uuid.UUID(event.id))
                .values(published_at=published_at)
            )
    # Only the purge step of the relay runs here: no broker is needed.
    relay = OutboxRelay(scratch_engine, "127.0.0.1:1", RelaySettings(retention=timedelta(days=7)))
    await relay._maybe_purge()
    async with sessions() as session:
        kept = set((await session.execute(select(outbox_events.c.event_id))).scalars())
    assert kept == {uuid.UUID(recent.id), uuid.UUID(pending.id)}
