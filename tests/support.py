"""Helpers shared by the integration and end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from relacja_contracts import CloudEvent, EventPayload, to_kafka_headers
from relacja_devstack import Stack
from relacja_messaging.kafka import consumer_options

__all__ = ["applied", "event_types", "eventually", "publish", "read_topic", "service_client", "service_db"]

T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T | None]], *, timeout: float = 60.0, interval: float = 0.1) -> T:
    """Poll ``check`` until it returns something truthy; fail with the last value after ``timeout``.

    The default is generous: consumers and relays of a loaded 2-core CI machine can lag many
    seconds, and a passing check returns at once anyway."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    header: str,
    values: set[str],
    until: Callable[[list[ConsumerRecord]], bool] | None = None,
    timeout: float = 60.0,
) -> list[ConsumerRecord]:
    """Every record of ``topic`` whose ``header`` is one of ``values``, reading from the start
    with a fresh consumer group until each value was seen and the topic is read to its end.

    Relays publish a service's outbox asynchronously, so the topic's end may not hold the
    last events written yet: ``until(records)`` keeps reading (and waiting for new records)
    until it holds too — e.g. until the event of the test's last write is there."""
    consumer = AIOKafkaConsumer(topic, **consumer_options(bootstrap, f"test-reader-{uuid.uuid4().hex}"))
    await consumer.start()
    found: list[ConsumerRecord] = []
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                found += [r for r in records if dict(r.headers).get(header, b"").decode() in values]
            if (
                not batch
                and {dict(r.headers)[header].decode() for r in found} == values
                and (until is None or until(found))
            ):
                return found
    finally:
        await consumer.stop()
    if until is not None and {dict(r.headers)[header].decode() for r in found} == values:
        raise AssertionError(
            f"the records of {sorted(values)} on {topic} never met the condition within {timeout}s: {found!r}"
        )
    raise AssertionError(f"not every {header} in {sorted(values)} appeared on {topic} within {timeout}s")


def event_types(records: list[ConsumerRecord]) -> list[str]:
    """The ``ce_type`` of each record, in order."""
    return [dict(r.headers)["ce_type"].decode() for r in records]


async def applied(db: asyncpg.Connection, consumer: str, event_id: str) -> bool:
    """Whether ``consumer`` (a service's consumer group, e.g. ``segmentation.projection``) has
    applied the event: its inbox row is written in the transaction of the event's effects,
    so it is the proof that an event on another topic or partition has been taken into account.
    A dead-lettered event fails at once (waiting would not change it)."""
    outcome = await db.fetchval(
        "SELECT outcome FROM inbox_events WHERE consumer = $1 AND event_id = $2", consumer, event_id
    )
    if outcome == "dead_lettered":
        raise AssertionError(f"{consumer} dead-lettered event {event_id} (see the service's log)")
    return outcome == "applied"


async def publish(
    producer: AIOKafkaProducer, payload: EventPayload, *, source: str = "/relacja/tests", wait: bool = True
) -> CloudEvent:
    """Send ``payload`` as a producing service's relay would: a CloudEvent in binary mode
    on the payload's topic, keyed by its subject (the customer id). ``wait=False`` only
    queues it (``await producer.flush()`` after a batch)."""
    event = CloudEvent.for_payload(payload, source=source)
    send = producer.send_and_wait if wait else producer.send
    await send(
        payload.topic.name,
        value=payload.model_dump_json().encode(),
        key=event.subject.encode(),
        headers=to_kafka_headers(event),
    )
    return event


@contextlib.asynccontextmanager
async def service_client(stack: Stack, service: str, *, timeout: float = 10) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on one service of the test stack, directly (not through the gateway)."""
    async with httpx.AsyncClient(base_url=stack.service_url(service), timeout=timeout) as client:
        yield client


@contextlib.asynccontextmanager
async def service_db(stack: Stack, service: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection to one service's database."""
    connection = await asyncpg.connect(stack.database_url(service).replace("+asyncpg", ""))
    try:
        yield connection
    finally:
        await connection.close()
