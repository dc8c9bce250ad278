"""The idempotent consumer: inbox, retries, dead letters — real PostgreSQL and broker."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent, to_kafka_headers
from relacja_contracts.events import CustomerRegisteredV1
from relacja_contracts.topics import CUSTOMERS
from relacja_devstack import Stack
from relacja_messaging import EventConsumer, EventHandlers
from relacja_messaging.consumer import ConsumerSettings
from relacja_messaging.tables import inbox_events

from ..support import eventually, read_topic
from .conftest import effects

FAST_RETRIES = ConsumerSettings(max_attempts=3, initial_backoff=0.01, max_backoff=0.05)
# A new consumer group starts at the beginning of the shared relacja.customers topic, so it
# first works through every earlier test's customers (the dead-letter test, which applies
# one fetch one by one, took 8-16 s of the former 30 s on a quiet machine): room for a loaded one.
REPLAYED_WITHIN = 120


def new_event(customer_id: uuid.UUID | None = None) -> tuple[CloudEvent, CustomerRegisteredV1]:
    payload = CustomerRegisteredV1(
        customer_id=customer_id or uuid.uuid4(),
        kind="company",
        display_name="Acme",
        lifecycle_stage="prospect",
        registered_at=datetime.now(UTC),
    )
    return CloudEvent.for_payload(payload, source="/relacja/tests"), payload


async def send(producer: AIOKafkaProducer, event: CloudEvent, value: bytes, *, topic: str = CUSTOMERS.name) -> None:
    await producer.send_and_wait(topic, value=value, key=event.subject.encode(), headers=to_kafka_headers(event))


def recording_handlers(consumer_name: str, *, failing_event_ids: frozenset[str] = frozenset()) -> EventHandlers:
    """Handlers that record each applied event in ``it_effects``, and always fail for the given events."""
    handlers = EventHandlers()

    @handlers.on(CustomerRegisteredV1)
    async def record(session: AsyncSession, event: CloudEvent, payload: CustomerRegisteredV1) -> None:
        if event.id in failing_event_ids:
            raise ValueError("cannot apply this event")
        await session.execute(
            insert(effects).values(event_id=event.id, customer_id=payload.customer_id, consumer=consumer_name)
        )

    return handlers


async def count(sessions, table, **where) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        return await session.scalar(query)


async def run_consumer(consumer: EventConsumer):
    return asyncio.create_task(consumer.run())


async def stop(task: asyncio.Task) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def dead_letters(stack: Stack, event_ids: set[str]) -> dict[str, dict[str, bytes]]:
    """Headers (plus ``_value``) of the dead letters of ``event_ids``, by event id."""
    records = await read_topic(stack.bootstrap_servers, CUSTOMERS.dead_letter.name, header="ce_id", values=event_ids)
    return {dict(r.headers)["ce_id"].decode(): dict(r.headers) | {"_value": r.value} for r in records}


async def test_the_same_event_delivered_twice_is_applied_once(stack: Stack, sessions, producer) -> None:
    name = f"it-once-{uuid.uuid4().hex[:8]}"
    consumer = EventConsumer(name, recording_handlers(name), sessions, stack.bootstrap_servers, FAST_RETRIES)
    event, payload = new_event()
    await send(producer, event, payload.model_dump_json().encode())
    await send(producer, event, payload.model_dump_json().encode())
    marker, marker_payload = new_event(payload.customer_id)  # same key: same partition, applied after both copies
    await send(producer, marker, marker_payload.model_dump_json().encode())
    task = await run_consumer(consumer)
    try:
        await eventually(lambda: count(sessions, effects, event_id=marker.id), timeout=REPLAYED_WITHIN)
    finally:
        await stop(task)
    assert await count(sessions, effects, event_id=event.id) == 1
    assert await count(sessions, inbox_events, consumer=name, event_id=event.id) == 1


async def test_a_handler_that_always_fails_dead_letters_the_event_and_the_consumer_goes_on(
    stack: Stack, sessions, producer
) -> None:
    name = f"it-dlq-{uuid.uuid4().hex[:8]}"
    broken, broken_payload = new_event()
    after, after_payload = new_event(broken_payload.customer_id)  # same key: same partition, strictly after
    failing = recording_handlers(name, failing_event_ids=frozenset({broken.id}))
    await send(producer, broken, broken_payload.model_dump_json().encode())
    await send(producer, after, after_payload.model_dump_json().encode())
    task = await run_consumer(EventConsumer(name, failing, sessions, stack.bootstrap_servers, FAST_RETRIES))
    try:
        await eventually(lambda: count(sessions, effects, event_id=after.id), timeout=REPLAYED_WITHIN)
    finally:
        await stop(task)
    assert await count(sessions, effects, event_id=broken.id) == 0
    letters = await dead_letters(stack, {broken.id})
    headers = letters[broken.id]
    assert headers["dlq_consumer"] == name.encode()
    assert headers["dlq_error_type"] == b"ValueError"
    assert b"cannot apply this event" in headers["dlq_error"]
    assert headers["dlq_source_topic"] == CUSTOMERS.name.encode()
    assert headers["ce_type"] == b"relacja.customers.customer.registered.v1"  # original headers kept
    assert headers["_value"] == broken_payload.model_dump_json().encode()
    async with sessions() as session:
        outcome = await session.scalar(
            select(inbox_events.c.outcome).where(inbox_events.c.consumer == name, inbox_events.c.event_id == broken.id)
        )
    assert outcome == "dead_lettered"


async def test_a_payload_that_breaks_the_contract_goes_to_the_dead_letter_topic_at_once(
    stack: Stack, sessions, producer
) -> None:
    name = f"it-poison-{uuid.uuid4().hex[:8]}"
    poison, poison_payload = new_event()
    good, good_payload = new_event(poison_payload.customer_id)  # same partition, strictly after the poison
    await send(producer, poison, b'{"customer_id": "not-a-uuid"}')
    await send(producer, good, good_payload.model_dump_json().encode())
    task = await run_consumer(
        EventConsumer(name, recording_handlers(name), sessions, stack.bootstrap_servers, FAST_RETRIES)
    )
    try:
        await eventually(lambda: count(sessions, effects, event_id=good.id), timeout=REPLAYED_WITHIN)
    finally:
        await stop(task)
    letters = await dead_letters(stack, {poison.id})
    assert letters[poison.id]["dlq_error_type"] == b"ValidationError"


async def test_a_transient_failure_is_retried_until_it_succeeds(stack: Stack, sessions, producer) -> None:
    name = f"it-transient-{uuid.uuid4().hex[:8]}"
    event, payload = new_event()
    attempts = 0
    handlers = EventHandlers()

    @handlers.on(CustomerRegisteredV1)
    async def flaky(session: AsyncSession, evt: CloudEvent, p: CustomerRegisteredV1) -> None:
        nonlocal attempts
        if evt.id != event.id:
            return
        attempts += 1
        if attempts <= FAST_RETRIES.max_attempts + 2:  # more than the budget for ordinary errors
            raise ConnectionRefusedError("database restarting")
        await session.execute(insert(effects).values(event_id=evt.id, customer_id=p.customer_id, consumer=name))

    await send(producer, event, payload.model_dump_json().encode())
    task = await run_consumer(EventConsumer(name, handlers, sessions, stack.bootstrap_servers, FAST_RETRIES))
    try:
        await eventually(lambda: count(sessions, effects, event_id=event.id), timeout=REPLAYED_WITHIN)
    finally:
        await stop(task)
    assert attempts == FAST_RETRIES.max_attempts + 3
    assert await count(sessions, inbox_events, consumer=name, event_id=event.id) == 1


async def test_a_fetch_of_many_events_is_applied_in_order_and_exactly_once(stack: Stack, sessions, producer) -> None:
    name = f"it-batch-{uuid.uuid4().hex[:8]}"
    customer = uuid.uuid4()
    events = [new_event(customer) for _ in range(200)]
    for event, payload in events:
        await producer.send(
            CUSTOMERS.name,
            value=payload.model_dump_json().encode(),
            key=str(customer).encode(),
            headers=to_kafka_headers(event),
        )
    await producer.send_and_wait(
        CUSTOMERS.name,
        value=events[0][1].model_dump_json().encode(),
        key=str(customer).encode(),
        headers=to_kafka_headers(events[0][0]),
    )
    task = await run_consumer(
        EventConsumer(name, recording_handlers(name), sessions, stack.bootstrap_servers, FAST_RETRIES)
    )
    try:
        # The topic also carries other tests' events: count only this customer's.
        await eventually(
            lambda: _at_least(count(sessions, effects, consumer=name, customer_id=customer), 200),
            timeout=REPLAYED_WITHIN,
        )
    finally:
        await stop(task)
    async with sessions() as session:
        applied = (
            (
                await session.execute(
                    select(effects.c.event_id).where(effects.c.consumer == name, effects.c.customer_id == customer)
                )
            )
            .scalars()
            .all()
        )
        offsets = (
            (
                await session.execute(
                    select(inbox_events.c.offset)
                    .where(inbox_events.c.consumer == name, inbox_events.c.event_id.in_([e.id for e, _ in events]))
                    # clock_timestamp() has microsecond resolution: rows of one fetch can tie, and
                    # PostgreSQL may return ties in any order; the offset only breaks such ties.
                    .order_by(inbox_events.c.processed_at, inbox_events.c.offset)
                )
            )
            .scalars()
            .all()
        )
    assert sorted(applied) == sorted(e.id for e, _ in events)  # each once, the resent copy skipped
    assert offsets == sorted(offsets) and len(offsets) == 200  # applied in offset order


async def _at_least(counting, expected: int) -> bool:
    return await counting >= expected


async def test_a_batch_handler_gets_runs_of_a_fetch_and_applies_each_event_once(
    stack: Stack, sessions, producer
) -> None:
    name = f"it-runs-{uuid.uuid4().hex[:8]}"
    customer = uuid.uuid4()
    handlers = EventHandlers()
    run_sizes: list[int] = []

    @handlers.on_batch(CustomerRegisteredV1)
    async def record_all(session: AsyncSession, items) -> None:
        run_sizes.append(len(items))
        await session.execute(
            insert(effects),
            [{"event_id": e.id, "customer_id": p.customer_id, "consumer": name} for e, p in items],
        )

    events = [new_event(customer) for _ in range(100)]
    for event, payload in events + events[:1]:  # the first once more: a duplicate in the fetch
        await producer.send(
            CUSTOMERS.name,
            value=payload.model_dump_json().encode(),
            key=str(customer).encode(),
            headers=to_kafka_headers(event),
        )
    await producer.flush()
    task = await run_consumer(EventConsumer(name, handlers, sessions, stack.bootstrap_servers, FAST_RETRIES))
    try:
        await eventually(
            lambda: _at_least(count(sessions, effects, consumer=name, customer_id=customer), 100),
            timeout=REPLAYED_WITHIN,
        )
    finally:
        await stop(task)
    assert await count(sessions, effects, consumer=name, customer_id=customer) == 100  # each once
    assert max(run_sizes) > 1  # a fetch's events reached the handler together


async def test_a_batch_with_a_poison_event_in_its_middle_applies_the_others_and_dead_letters_that_one(
    stack: Stack, sessions, producer
) -> None:
    name = f"it-batch-poison-{uuid.uuid4().hex[:8]}"
    customer = uuid.uuid4()
    events = [new_event(customer) for _ in range(41)]
    poison = events[20][0]
    handlers = EventHandlers()
    run_sizes: list[int] = []

    @handlers.on_batch(CustomerRegisteredV1)
    async def record_all(session: AsyncSession, items) -> None:
        run_sizes.append(len(items))
        for event, _ in items:
            if event.id == poison.id:
                raise ValueError("cannot apply this event")
        await session.execute(
            insert(effects),
            [{"event_id": e.id, "customer_id": p.customer_id, "consumer": name} for e, p in items],
        )

    for event, payload in events:  # one key: one partition, in this order
        await producer.send(
            CUSTOMERS.name,
            value=payload.model_dump_json().encode(),
            key=str(customer).encode(),
            headers=to_kafka_headers(event),
        )
    await producer.flush()
    task = await run_consumer(EventConsumer(name, handlers, sessions, stack.bootstrap_servers, FAST_RETRIES))
    try:
        await eventually(
            lambda: _at_least(count(sessions, effects, consumer=name, customer_id=customer), 40),
            timeout=REPLAYED_WITHIN,
        )
    finally:
        await stop(task)
    # The fallback applies the fetch in order: the poison was dead-lettered before the events after it.
    letters = await dead_letters(stack, {poison.id})
    assert await count(sessions, effects, consumer=name, customer_id=customer) == 40  # all but the poison, once
    assert await count(sessions, effects, event_id=poison.id) == 0
    assert letters[poison.id]["dlq_consumer"] == name.encode()
    assert letters[poison.id]["dlq_error_type"] == b"ValueError"
    async with sessions() as session:
        outcome = await session.scalar(
            select(inbox_events.c.outcome).where(inbox_events.c.consumer == name, inbox_events.c.event_id == poison.id)
        )
    assert outcome == "dead_lettered"
    assert max(run_sizes) > 1  # the fetch reached the batch handler together before it fell back
