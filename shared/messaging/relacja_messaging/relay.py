"""The outbox relay: publishes committed outbox rows to Kafka, in order, and marks them.

One pass (``publish_batch``) in one database transaction:

1. take a transaction-level advisory lock, so only one relay per database publishes at a
   time — two relays working on disjoint batches could reorder one customer's events;
2. claim the oldest unpublished rows with ``FOR UPDATE SKIP LOCKED``;
3. send them keyed by customer id with ``acks=all`` and wait for every acknowledgement;
4. stamp ``published_at`` and raise the per-partition watermarks, then commit.

A crash between 3 and 4 publishes the batch again on the next pass: at-least-once, which
the consumers' inboxes turn into exactly-once effects.

The relay sleeps until ``NOTIFY relacja_outbox`` (sent at commit by a trigger on the
outbox) or the polling interval, whichever comes first, so a lost notification costs at
most one interval. While its LISTEN connection is up that interval is the long
``idle_poll_interval`` (the notification is what wakes it; the poll is only the net under a
lost one); while it is down, the short ``poll_interval``. The broker check below runs
before publishing when the last one is older than ``broker_check_interval``, and on an
idle relay only every ``idle_broker_check_interval``: an idle stack then costs a relay a
few queries a minute instead of two a second.

**The outbox is the source of truth.** The local broker keeps its log in memory, and any
broker can lose data. The relay notices when an acknowledged offset is at or below the
partition's watermark, when a topic it published to has vanished, or when a partition's
end offset is at or below the first offset of the relay's last publish there, or when a
partition it published to is gone (the topic re-created with fewer partitions). It then
re-declares the topics and republishes every retained row in order (``replay``);
consumers skip what they already applied.

**A stuck client is replaced.** Every wait on the broker is bounded (``ack_timeout`` for a
batch's acknowledgements, ``check_timeout`` for the broker check): aiokafka's producer can
wait for ever on acknowledgements that a broken link will never bring (aio-libs/aiokafka#1101),
and a relay waiting there holds its rows, its advisory lock and the whole outbox. After any
failed pass the relay drops its Kafka clients (their ``stop`` bounded too) and builds new
ones on the next pass; the rows it was sending stay unpublished and go out again (the
consumers' inboxes absorb a copy the broker did get).

Why not compare the end offset with the watermark: the local broker (Tansu) answers
ListOffsets with the *base offset of the last record batch* + 1, not the last offset + 1
(20 records in one batch: end offset 1). The first offset of our last publish is at or
below that batch's base on both brokers, so the check never fires on an intact log.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import Counter, Gauge
from sqlalchemy import ColumnElement, Text, cast, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .kafka import producer_options
from .notify import Notifications
from .retention import delete_older_than
from .tables import NOTIFY_CHANNEL, outbox_events, relay_watermarks
from .topics import declare_topics

__all__ = ["OutboxRelay", "RelaySettings", "BrokerLostData"]

log = logging.getLogger(__name__)

# Any constant works; it only has to be the same for every relay of one database.
_RELAY_LOCK_KEY = 0x52454C41  # "RELA"

PUBLISHED = Counter("relacja_outbox_published_total", "Outbox rows published to the broker", ["topic"])
REPLAYS = Counter("relacja_outbox_replays_total", "Times the relay republished the retained outbox")
PENDING = Gauge("relacja_outbox_pending", "Unpublished outbox rows seen by the last relay pass")
OLDEST_AGE = Gauge(
    "relacja_outbox_oldest_unpublished_age_seconds",
    "Age of the oldest unpublished outbox row at the last relay pass (0 when none waits)",
)


class BrokerLostData(RuntimeError):
    """The broker acknowledged an offset at or below one it had acknowledged before."""


@dataclass(frozen=True)
class RelaySettings:
    batch_size: int = 1000
    poll_interval: float = 1.0  # while the LISTEN connection is down
    idle_poll_interval: float = 30.0  # while it is up: NOTIFY wakes the relay, this is the net
    broker_check_interval: float = 2.0  # while publishing
    idle_broker_check_interval: float = 60.0  # while nothing is published
    listen_retry_interval: float = 1.0
    retention: timedelta = timedelta(days=7)
    purge_interval: float = 600.0
    max_backoff: float = 5.0
    replication_factor: int = 1  # of topics the relay declares after a broker loss
    # Bounds on waiting for the broker (module docstring, "A stuck client is replaced"): the
    # producer's own request timeout is 10 s and it retries, so this is several attempts.
    ack_timeout: float = 30.0
    check_timeout: float = 30.0


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        bootstrap: str,
        settings: RelaySettings = RelaySettings(),
        *,
        name: str = "relay",
    ) -> None:
        self.engine = engine
        self.bootstrap = bootstrap
        self.settings = settings
        self.name = name
        self._producer: AIOKafkaProducer | None = None
        self._probe: AIOKafkaConsumer | None = None
        self._watermarks: dict[tuple[str, int], int] = {}
        # First offset acknowledged in the last publish per partition; see the module docstring.
        self._floors: dict[tuple[str, int], int] = {}
        self._notifications = Notifications(engine, NOTIFY_CHANNEL, retry_interval=settings.listen_retry_interval)
        self._busy = True  # the last pass published, or a NOTIFY woke the relay
        self._suspect_broker = True  # check the broker before the first publish
        self._last_check = 0.0
        self._last_purge = 0.0

    # -- lifecycle -------------------------------------------------------------------

    async def run(self) -> None:
        """Publish until cancelled. Never raises for a broker or database outage: it waits and retries."""
        listener = asyncio.create_task(self._notifications.listen(), name=f"{self.name}-listen")
        backoff = 0.1
        try:
            while True:
                try:
                    await self._ensure_clients()
                    if self._broker_check_due():
                        await asyncio.wait_for(self._check_broker(), self.settings.check_timeout)
                    published = await self.publish_batch()
                    await self._maybe_purge()
                    backoff = 0.1
                    self._busy = published > 0
                    if published < self.settings.batch_size:
                        await self._sleep_until_woken()
                except BrokerLostData as lost:
                    log.warning("broker lost published events (%s); replaying the retained outbox", lost)
                    await self.replay()
                    # New clients, so new metadata: a broker that lost its log may have re-created
                    # the topics with fewer partitions, and a producer with the old metadata (kept
                    # for up to 5 minutes) sends to partitions no consumer sees; the broker
                    # acknowledges them (seen in CI: events invisible until the next check).
                    await self._drop_clients()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # broker or database down: wait and retry, never give up
                    self._suspect_broker = True
                    log.warning("relay pass failed, retrying in %.1fs with new Kafka clients: %r", backoff, exc)
                    await self._drop_clients()
                    await asyncio.sleep(backoff * (0.5 + random.random()))
                    backoff = min(backoff * 2, self.settings.max_backoff)
        finally:
            listener.cancel()
            await self.close()

    async def close(self) -> None:
        for client in (self._producer, self._probe):
            if client is not None:
                await client.stop()
        self._producer = self._probe = None

    async def _drop_clients(self) -> None:
        """Stop the Kafka clients after a failed pass (within a bound: a stuck one may never
        stop) so that the next pass starts with fresh connections and a fresh sender."""
        clients = [client for client in (self._producer, self._probe) if client is not None]
        self._producer = self._probe = None
        for client in clients:
            try:
                await asyncio.wait_for(client.stop(), self.settings.check_timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a client of an unreachable broker: nothing to keep
                log.debug("relay: ignoring error while stopping a Kafka client: %r", exc)

    async def _ensure_clients(self) -> None:
        if self._producer is None:
            producer = AIOKafkaProducer(**producer_options(self.bootstrap))
            await producer.start()
            self._producer = producer
        if self._probe is None:
            probe = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, request_timeout_ms=10_000)
            await probe.start()
            self._probe = probe

    # -- publishing -----------------------------------------------------------------

    async def publish_batch(self) -> int:
        """Publish up to ``batch_size`` of the oldest unpublished rows; returns how many."""
        assert self._producer is not None
        async with self.engine.begin() as conn:
            if not await conn.scalar(select(func.pg_try_advisory_xact_lock(_RELAY_LOCK_KEY))):
                return 0  # another relay of this database is publishing
            if not self._watermarks:
                await self._load_watermarks(conn)
            rows = (
                await conn.execute(
                    select(
                        outbox_events.c.id,
                        outbox_events.c.topic,
                        outbox_events.c.key,
                        outbox_events.c.headers,
                        cast(outbox_events.c.payload, Text).label("payload"),
                        func.extract("epoch", func.clock_timestamp() - outbox_events.c.created_at).label("age"),
                    )
                    .where(outbox_events.c.published_at.is_(None))
                    .order_by(outbox_events.c.id)
                    .limit(self.settings.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            PENDING.set(len(rows))
            # Rows come oldest first; the database's clock measures both ends.
            OLDEST_AGE.set(float(rows[0].age) if rows else 0.0)
            if not rows:
                return 0
            pending = [
                await self._producer.send(
                    row.topic,
                    value=row.payload.encode(),
                    key=row.key.encode(),
                    headers=[(name, value.encode()) for name, value in row.headers],
                )
                for row in rows
            ]
            try:
                acknowledged = await asyncio.wait_for(asyncio.gather(*pending), self.settings.ack_timeout)
            except TimeoutError:
                raise TimeoutError(
                    f"{len(rows)} outbox rows sent, not acknowledged within {self.settings.ack_timeout} s"
                ) from None
            high = self._raise_watermarks(acknowledged)
            await conn.execute(
                update(outbox_events)
                .where(outbox_events.c.id.in_([row.id for row in rows]))
                .values(published_at=func.clock_timestamp())
            )
            await self._store_watermarks(conn, high)
        for row in rows:
            PUBLISHED.labels(row.topic).inc()
        return len(rows)

    def _raise_watermarks(self, acknowledged: list[Any]) -> dict[tuple[str, int], int]:
        """The new high offset per partition; raises BrokerLostData if an offset went backwards."""
        high: dict[tuple[str, int], int] = {}
        floors: dict[tuple[str, int], int] = {}
        for meta in acknowledged:
            key = (meta.topic, meta.partition)
            known = high.get(key, self._watermarks.get(key, -1))
            if meta.offset <= known:
                raise BrokerLostData(f"{meta.topic}[{meta.partition}] acknowledged offset {meta.offset} <= {known}")
            high[key] = meta.offset
            floors.setdefault(key, meta.offset)
        self._watermarks.update(high)
        self._floors.update(floors)
        return high

    async def _load_watermarks(self, conn: AsyncConnection) -> None:
        rows = await conn.execute(
            select(relay_watermarks.c.topic, relay_watermarks.c.partition, relay_watermarks.c.high_offset)
        )
        self._watermarks = {(r.topic, r.partition): r.high_offset for r in rows}

    @staticmethod
    async def _store_watermarks(conn: AsyncConnection, high: dict[tuple[str, int], int]) -> None:
        statement = pg_insert(relay_watermarks).values(
            [{"topic": t, "partition": p, "high_offset": o} for (t, p), o in high.items()]
        )
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=["topic", "partition"],
                set_={"high_offset": statement.excluded.high_offset, "updated_at": func.clock_timestamp()},
            )
        )

    # -- the broker as a possibly forgetful store -------------------------------------

    async def _check_broker(self) -> None:
        """Raise BrokerLostData if a topic we published to is gone or a partition's log got shorter."""
        assert self._probe is not None
        self._last_check = time.monotonic()
        if not self._watermarks:
            async with self.engine.connect() as conn:
                await self._load_watermarks(conn)
        if self._suspect_broker:
            await declare_topics(self.bootstrap, replication_factor=self.settings.replication_factor)
        if self._watermarks:
            existing = await self._probe.topics()
            vanished = {topic for topic, _ in self._watermarks if topic not in existing}
            if vanished:
                raise BrokerLostData(f"topic(s) {', '.join(sorted(vanished))} no longer exist")
            # A broker that lost its log may have re-created a topic with its own default
            # partition count (a client's metadata request auto-creates it before the topics
            # are declared again): asking for the end of a partition that is gone never
            # answers, and the relay would fail every pass from here on.
            gone = sorted(
                f"{t}[{p}]" for t, p in self._watermarks if p not in (self._probe.partitions_for_topic(t) or set())
            )
            if gone:
                raise BrokerLostData(f"partition(s) {', '.join(gone)} no longer exist")
            ends = await self._probe.end_offsets([TopicPartition(t, p) for t, p in self._watermarks])
            for tp, end in ends.items():
                # Without a floor (the relay restarted) only an empty partition proves a loss.
                floor = self._floors.get((tp.topic, tp.partition), 0)
                if end <= floor:
                    raise BrokerLostData(
                        f"{tp.topic}[{tp.partition}] ends at {end}, at or below offset {floor} we published"
                    )
        self._suspect_broker = False

    async def replay(self, since: datetime | None = None) -> int:
        """Mark retained published rows (all, or those created since ``since``) for publishing again.

        Used automatically after the broker lost data, and by operators
        (``python -m relacja_messaging.replay``) to refill a topic.
        """
        if since is None:
            await declare_topics(self.bootstrap, replication_factor=self.settings.replication_factor)
        async with self.engine.begin() as conn:
            await conn.scalar(select(func.pg_advisory_xact_lock(_RELAY_LOCK_KEY)))
            condition: ColumnElement[bool] = outbox_events.c.published_at.is_not(None)
            if since is not None:
                condition &= outbox_events.c.created_at >= since
            result = await conn.execute(update(outbox_events).where(condition).values(published_at=None))
            if since is None:
                await conn.execute(delete(relay_watermarks))
        if since is None:
            self._watermarks, self._floors = {}, {}
        self._suspect_broker = False
        REPLAYS.inc()
        log.info("outbox replay: %d retained events queued for publishing", result.rowcount)
        return result.rowcount

    # -- waiting and housekeeping ------------------------------------------------------

    def _broker_check_due(self) -> bool:
        if self._suspect_broker:
            return True
        since = time.monotonic() - self._last_check
        if self._busy:
            return since > self.settings.broker_check_interval
        return since > self.settings.idle_broker_check_interval

    async def _sleep_until_woken(self) -> None:
        if await self._notifications.wait(
            idle_timeout=self.settings.idle_poll_interval, fallback_timeout=self.settings.poll_interval
        ):
            self._busy = True  # woken by a NOTIFY: rows are waiting, check the broker as when publishing

    async def _maybe_purge(self) -> None:
        if time.monotonic() - self._last_purge < self.settings.purge_interval:
            return
        self._last_purge = time.monotonic()
        await delete_older_than(self.engine, "outbox_events", "published_at", self.settings.retention)
