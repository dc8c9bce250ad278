"""The consumer and the relay across broker faults, on a PostgreSQL and a broker of their own.

    broker lost its log      the broker restarts empty (four times); a relay's replay republishes
                             a log shorter than the one the consumer had read (the old one held
                             copies of a crashed relay's batch), then new events: the consumer
                             applies every one. Without the consumer's check the new events are
                             never applied (the consumer reads the new log from its old
                             position); the consumer reaches the broker through a fault proxy
                             as in the fault harness, which is what let it fetch there before
                             the broker made it rejoin its group
    2 s blackhole            the relay's link to the broker drops every packet for 2 s in the
                             middle of a stream of outbox rows: every row is published soon after

Found by the fault harness (tests/faults, docs/reliability.md). Own infrastructure on spare
ports, not the session's stack: these tests stop the broker and cut its links, which the
other tests share. A few seconds to start.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from relacja_contracts import CloudEvent, to_kafka_headers
from relacja_contracts.events import CustomerRegisteredV1
from relacja_contracts.topics import CUSTOMERS
from relacja_devstack.broker import Broker
from relacja_devstack.faultproxy import FaultProxy
from relacja_devstack.postgres import Postgres
from relacja_messaging import EventConsumer, Outbox, OutboxRelay
from relacja_messaging.consumer import ConsumerSettings
from relacja_messaging.kafka import producer_options
from relacja_messaging.migrations import create_messaging_tables
from relacja_messaging.relay import RelaySettings
from relacja_messaging.tables import outbox_events, relay_watermarks

from ..support import eventually
from .conftest import effects, effects_metadata
from .test_consumer import count, recording_handlers, stop

FAST_RETRIES = ConsumerSettings(max_attempts=3, initial_backoff=0.01, max_backoff=0.5)
# Broker restarts in one test: whether a consumer fetches from its old position before the
# broker makes it rejoin the group (and reset) is a race; each round is another chance to lose.
ROUNDS = 4


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Infrastructure:
    postgres: Postgres
    broker: Broker


@pytest.fixture(scope="module")
async def infrastructure(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Infrastructure]:
    state = tmp_path_factory.mktemp("broker-faults")
    postgres = Postgres(state, _free_port())
    broker = Broker(state, _free_port())
    await asyncio.to_thread(postgres.start)
    try:
        await broker.start()  # declares the contract topics
        try:
            yield Infrastructure(postgres, broker)
        finally:
            await broker.stop()
    finally:
        await asyncio.to_thread(postgres.stop)


@pytest.fixture
async def engine(infrastructure: Infrastructure) -> AsyncIterator[AsyncEngine]:
    name = f"bf_{uuid.uuid4().hex[:12]}"
    await infrastructure.postgres.ensure_databases([name])
    created = create_async_engine(infrastructure.postgres.dsn(name).replace("postgresql://", "postgresql+asyncpg://"))
    async with created.begin() as conn:
        await conn.run_sync(create_messaging_tables)
        await conn.run_sync(effects_metadata.create_all)
    try:
        yield created
    finally:
        await created.dispose()


def customer_registered(customer_id: uuid.UUID) -> CustomerRegisteredV1:
    return CustomerRegisteredV1(
        customer_id=customer_id,
        kind="company",
        display_name="Acme",
        lifecycle_stage="prospect",
        registered_at=datetime.now(UTC),
    )


def registered(customer_id: uuid.UUID) -> tuple[CloudEvent, bytes]:
    payload = customer_registered(customer_id)
    return CloudEvent.for_payload(payload, source="/relacja/tests"), payload.model_dump_json().encode()


async def publish(bootstrap: str, events: list[tuple[CloudEvent, bytes]]) -> None:
    """Send all, then wait for the acknowledgements: one batch, as fast as a relay's replay."""
    producer = AIOKafkaProducer(**producer_options(bootstrap))
    await producer.start()
    try:
        sent = [
            await producer.send(
                CUSTOMERS.name, value=value, key=event.subject.encode(), headers=to_kafka_headers(event)
            )
            for event, value in events
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def test_after_the_broker_lost_its_log_the_consumer_applies_every_event_of_the_new_one(
    infrastructure: Infrastructure, engine: AsyncEngine
) -> None:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    name = f"it-loss-{uuid.uuid4().hex[:8]}"
    bootstrap = infrastructure.broker.bootstrap_servers
    customer = uuid.uuid4()  # one key: every record on one partition
    log = [registered(customer) for _ in range(30)]
    # The old log holds 10 of them twice (a relay that crashed after sending, before marking
    # its rows, sends them again): 40 records, so the consumer's position ends at 40.
    await publish(bootstrap, log + log[:10])
    # Through a proxy, as in the fault harness's stack: it outlives the broker's restarts.
    proxy = FaultProxy("consumer-broker", "127.0.0.1", infrastructure.broker.port, kafka=True)
    await proxy.start()
    consumer = EventConsumer(name, recording_handlers(name), sessions, proxy.address, FAST_RETRIES)
    task = asyncio.create_task(consumer.run())
    new: list[tuple[CloudEvent, bytes]] = []
    try:
        await eventually(lambda: _at_least(sessions, name, len(log)), timeout=90)
        for _ in range(ROUNDS):
            await asyncio.sleep(1.0)  # the last fetch's offsets committed
            await infrastructure.broker.stop()
            await asyncio.sleep(1.0)
            await infrastructure.broker.start()  # empty; the topics declared again
            # What the relays do then, at once: republish the outbox (each row once: a log
            # shorter than the old one), then the rows written while the broker was down.
            added = [registered(customer) for _ in range(15)]
            log += added
            new += added
            await publish(bootstrap, log)
            await eventually(functools.partial(_at_least, sessions, name, len(log)), timeout=90)
    finally:
        await stop(task)
        await proxy.stop()
    for event, _ in new:
        assert await count(sessions, effects, event_id=event.id) == 1, f"{event.id} not applied"
    assert await count(sessions, effects, consumer=name) == len(log)  # and nothing twice


async def _at_least(sessions: async_sessionmaker, consumer: str, expected: int) -> int | None:
    found = await count(sessions, effects, consumer=consumer)
    return found if found >= expected else None


async def test_the_relay_publishes_every_row_after_a_2_s_blackhole_to_the_broker(
    infrastructure: Infrastructure, engine: AsyncEngine
) -> None:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    proxy = FaultProxy("relay-broker", "127.0.0.1", infrastructure.broker.port, kafka=True)
    await proxy.start()
    outbox = Outbox("/relacja/tests")
    relay = OutboxRelay(engine, proxy.address, RelaySettings(poll_interval=0.2, broker_check_interval=0.5))
    task = asyncio.create_task(relay.run())
    writing = True

    async def write() -> None:
        """A steady stream of outbox rows, as a service under load writes them."""
        while writing:
            async with sessions() as session, session.begin():
                for _ in range(5):
                    await outbox.add(session, customer_registered(uuid.uuid4()))
            await asyncio.sleep(0.02)

    writer = asyncio.create_task(write())
    try:
        await asyncio.sleep(3.0)
        proxy.blackhole()
        await asyncio.sleep(2.0)
        proxy.heal()
        await asyncio.sleep(3.0)
        writing = False
        await writer

        async def all_published() -> bool:
            async with sessions() as session:
                left = await session.scalar(select(func.count()).where(outbox_events.c.published_at.is_(None)))
            return left == 0

        await eventually(all_published, timeout=60)
    finally:
        writing = False
        await asyncio.gather(writer, return_exceptions=True)
        await stop(task)
        await proxy.stop()


async def test_the_relay_replays_when_a_partition_it_published_to_is_gone(
    infrastructure: Infrastructure, engine: AsyncEngine
) -> None:
    """After a restart the broker may re-create a topic with fewer partitions (a client's metadata
    request auto-creates it before the topics are declared again; seen in the fault harness: 4
    instead of 6). Asking for the end of a partition that is gone never answers: the relay
    replays instead of failing every pass."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    outbox = Outbox("/relacja/tests")
    async with sessions() as session, session.begin():
        for _ in range(5):
            await outbox.add(session, customer_registered(uuid.uuid4()))
        # What the relay remembers from the old log: a publish to a partition the topic no longer has.
        await session.execute(
            insert(relay_watermarks).values(topic=CUSTOMERS.name, partition=CUSTOMERS.partitions + 3, high_offset=9)
        )
    relay = OutboxRelay(engine, infrastructure.broker.bootstrap_servers, RelaySettings(poll_interval=0.2))
    task = asyncio.create_task(relay.run())
    try:

        async def all_published() -> bool:
            async with sessions() as session:
                left = await session.scalar(select(func.count()).where(outbox_events.c.published_at.is_(None)))
            return left == 0

        await eventually(all_published, timeout=60)
    finally:
        await stop(task)
