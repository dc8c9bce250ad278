"""The idempotent consumer: at-least-once delivery, exactly-once effects.

For the records one fetch returned (of every partition it holds; each partition's in offset
order):

1. read the CloudEvents envelope from the headers and find the handler for ``ce_type``
   (types this consumer has no handler for are skipped: topics carry many types);
2. validate the value against the handler's payload model;
3. in one transaction, insert the inbox rows (consumer, event id) of all of them with one
   statement — an id that conflicts was applied before and its record is skipped — and
   run the handlers of the new ones in offset order (a run of consecutive events whose
   handler was registered with ``on_batch`` goes to it in one call);
4. after the transaction commits, commit exactly the next offset of each of those partitions.

Applying a fetch in one transaction is what keeps up with a steady stream (one commit
instead of one per event). If that transaction fails, it rolls back and the same records
are applied one by one, each in its own transaction, under the rules below — so one bad
event never holds back the others, and the guarantees are those of the one-by-one path.

Failures: an outage of the database or broker is retried without limit (with capped
backoff), because the event is fine. Any other error is retried ``max_attempts`` times
with jittered exponential backoff; then the record goes to ``<topic>.dlq`` with the
original headers plus ``dlq_*`` headers naming the error, is marked ``dead_lettered``
in the inbox, and the consumer goes on with the next record. A record that is not a
valid envelope or payload goes to the dead-letter topic at once: retrying cannot fix it.

Waiting: while records flow, a fetch waits at most 50 ms on the broker for data (the
latency budget). After ``idle_after`` seconds without a record the consumer lengthens that
wait to ``idle_fetch_wait_ms``, so an idle consumer sends a few fetches a second instead of
about twenty (the broker's CPU on an idle stack was mostly answering them); the first
record after a pause is applied up to that much later, and the wait is short again from
the next fetch on. After each fetch the consumer reports its lag per partition to
``progress.py`` (metrics, the freshness endpoint, a log line while digesting a backlog).

A broker that lost its log (the local in-memory one restarted; a cluster rebuilt) comes
back empty and the relays republish their outboxes into it (``relay.py``). The consumer's
fetch positions are offsets of the *old* log: once the new one grows past them, fetching
from there would skip the new log's beginning — events written while the broker was down
among them — and nothing would ever bring them back. So before applying a fetch the
consumer asks the broker for the group's committed offsets of the fetched partitions: a
broker that no longer has an offset this consumer committed there (or has a lower one) has
lost its state. The consumer then drops the fetch, rewinds every partition it holds to the
beginning of the new log and applies it again; the inbox skips what was applied before.
On a broker that keeps its log the check never fires; it costs one OffsetFetch per fetch
that returned records.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from relacja_contracts import CloudEvent, EventPayload, dead_letter_topic, from_kafka_headers
from relacja_contracts.envelope import EnvelopeError

from .dead_letters import REDRIVE_HEADER
from .errors import is_transient
from .handlers import BatchHandler, EventHandlers, Handler
from .kafka import BUSY_FETCH_WAIT_MS, consumer_options, producer_options, set_fetch_wait
from .progress import BacklogLog, PartitionProgress, forget, report
from .tables import inbox_events
from .tracing import current_traceparent

__all__ = ["EventConsumer", "ConsumerSettings"]

log = logging.getLogger(__name__)

PROCESSED = Counter("relacja_consumer_events_total", "Records handled by consumers", ["consumer", "outcome"])
REWINDS = Counter(
    "relacja_consumer_rewinds_total",
    "Times a consumer found that the broker lost its committed offsets and re-read its partitions from the beginning",
    ["consumer"],
)


_CLAIM_INBOX = (
    pg_insert(inbox_events)
    .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
    .returning(inbox_events.c.event_id)
)


@dataclass(frozen=True)
class ConsumerSettings:
    max_attempts: int = 5
    initial_backoff: float = 0.1
    max_backoff: float = 5.0
    # Idle waiting (module docstring): seconds without a record, then the longer broker wait.
    idle_after: float = 5.0
    idle_fetch_wait_ms: int = 2000
    # A backlog of at least this many events is logged every backlog_log_interval seconds.
    backlog_log_threshold: int = 10_000
    backlog_log_interval: float = 10.0


@dataclass(frozen=True)
class _Decoded:
    record: ConsumerRecord
    event: CloudEvent
    handler: Handler[EventPayload]
    payload: EventPayload
    # Re-driven from the dead-letter topic for this consumer (dead_letters.py): applied even
    # though the inbox says dead_lettered — but still only once.
    redriven: bool = False
    batch: BatchHandler | None = None


class EventConsumer:
    def __init__(
        self,
        name: str,
        handlers: EventHandlers,
        session_factory: async_sessionmaker[AsyncSession],
        bootstrap: str,
        settings: ConsumerSettings = ConsumerSettings(),
    ) -> None:
        """``name`` is the consumer group and the inbox's consumer column (e.g. ``segmentation.projection``)."""
        self.name = name
        self.handlers = handlers
        self.session_factory = session_factory
        self.bootstrap = bootstrap
        self.settings = settings
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._fetch_wait_ms = BUSY_FETCH_WAIT_MS
        # The offset this consumer last committed per partition: what the broker must still know.
        self._committed: dict[TopicPartition, int] = {}
        self._backlog = BacklogLog(
            name, threshold=settings.backlog_log_threshold, interval=settings.backlog_log_interval
        )

    async def run(self) -> None:
        """Consume until cancelled. Broker outages are waited out, never raised."""
        topics = [t.name for t in self.handlers.topics]
        backoff = self.settings.initial_backoff
        try:
            while True:
                try:
                    await self._start(topics)
                    backoff = self.settings.initial_backoff
                    await self._consume()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("consumer %s restarting in %.1fs: %r", self.name, backoff, exc)
                    await self._stop()
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self.settings.max_backoff)
        finally:
            await self._stop()

    async def _start(self, topics: list[str]) -> None:
        if self._consumer is None:
            consumer = AIOKafkaConsumer(*topics, **consumer_options(self.bootstrap, self.name))
            await consumer.start()
            self._consumer = consumer
            self._fetch_wait_ms = BUSY_FETCH_WAIT_MS
        if self._producer is None:
            producer = AIOKafkaProducer(**producer_options(self.bootstrap))
            await producer.start()
            self._producer = producer

    async def _stop(self) -> None:
        for client in (self._consumer, self._producer):
            if client is not None:
                try:
                    await client.stop()
                except Exception as exc:  # stopping a client of a dead broker may fail; nothing to keep
                    log.debug("ignoring error while stopping a Kafka client: %r", exc)
        self._consumer = self._producer = None
        self._committed = {}
        forget(self.name)

    async def _consume(self) -> None:
        assert self._consumer is not None
        last_record = time.monotonic()
        while True:
            batch = await self._consumer.getmany(timeout_ms=1000)
            now = time.monotonic()
            if batch:
                last_record = now
                self._wait_for_data(BUSY_FETCH_WAIT_MS)
            elif now - last_record >= self.settings.idle_after:
                self._wait_for_data(self.settings.idle_fetch_wait_ms)
            if batch and await self._broker_lost_its_log(list(batch)):
                await self._rewind()
                continue
            if batch:
                await self._apply_fetch(batch)
            else:
                await self._report_idle()

    async def _apply_fetch(self, batch: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        """Apply every partition's records of one fetch in one transaction, then commit their offsets.

        One transaction per fetch, not per partition: at a steady 200 events/s a 50 ms fetch
        holds a few records of each of six partitions, and a transaction per partition made
        the transaction's fixed cost (BEGIN, the inbox claim, COMMIT with its WAL flush) the
        consumer's main cost (#18, docs/benchmarks.md §18). The records keep their order
        within each partition; across partitions no order exists to keep.
        """
        for partition, records in batch.items():
            self._report(partition, records[0].offset, waiting_since=records[0].timestamp / 1000)
        await self.process_batch([record for records in batch.values() for record in records])
        await self._commit_all({partition: records[-1].offset + 1 for partition, records in batch.items()})
        for partition, records in batch.items():
            self._report(partition, records[-1].offset + 1, waiting_since=records[-1].timestamp / 1000)
            self._backlog.applied(len(records))

    def _wait_for_data(self, wait_ms: int) -> None:
        if wait_ms != self._fetch_wait_ms:
            assert self._consumer is not None
            set_fetch_wait(self._consumer, wait_ms)
            self._fetch_wait_ms = wait_ms
            log.debug("consumer %s: fetches now wait up to %d ms for data", self.name, wait_ms)

    def _report(self, partition: TopicPartition, next_offset: int, *, waiting_since: float | None) -> None:
        """Record the partition's lag (``progress.py``); the high watermark is the last fetch's."""
        assert self._consumer is not None
        highwater = self._consumer.highwater(partition)
        if highwater is None:
            return
        report(
            self.name,
            partition.topic,
            partition.partition,
            PartitionProgress(next_offset, highwater, waiting_since if highwater > next_offset else None),
        )

    async def _report_idle(self) -> None:
        """After an empty fetch: every held partition is at its high watermark; drop the ones no longer held."""
        assert self._consumer is not None
        held = self._consumer.assignment()
        forget(self.name, keep=[(tp.topic, tp.partition) for tp in held])
        for partition in held:
            if self._consumer.highwater(partition) is None:
                continue  # no fetch answered for it yet: its lag is unknown
            try:
                # Known once a fetch was answered; never wait here for a reset or a rebalance.
                position = await asyncio.wait_for(self._consumer.position(partition), 0.1)
            except (IllegalStateError, TimeoutError):
                continue
            self._report(partition, position, waiting_since=None)

    async def _broker_lost_its_log(self, partitions: list[TopicPartition]) -> bool:
        """True if the broker no longer has (or has a lower) offset this consumer committed on one of ``partitions``.

        Another member may have committed a partition further after a rebalance: a higher
        offset is no loss. A lower one is (or, rarely, a lagging member's late commit after a
        rebalance: the rewind is then only wasted work, the inbox keeps it harmless)."""
        assert self._consumer is not None
        held = self._consumer.assignment()
        self._committed = {tp: offset for tp, offset in self._committed.items() if tp in held}
        checked = [tp for tp in partitions if tp in self._committed]
        if not checked:
            return False
        remote = await asyncio.gather(*(self._consumer.committed(tp) for tp in checked))
        lost = [
            f"{tp.topic}[{tp.partition}] {offset} (this consumer committed {self._committed[tp]})"
            for tp, offset in zip(checked, remote, strict=True)
            if offset is None or offset < self._committed[tp]
        ]
        if lost:
            log.warning(
                "consumer %s: the broker lost the group's committed offsets (%s): its log was lost; "
                "re-reading every held partition from the beginning",
                self.name,
                ", ".join(lost),
            )
        return bool(lost)

    async def _rewind(self) -> None:
        """Fetch every held partition from the beginning of the (new) log; the inbox skips what was applied."""
        assert self._consumer is not None
        REWINDS.labels(self.name).inc()
        self._committed = {}
        forget(self.name)
        held = self._consumer.assignment()
        if held:
            try:
                await self._consumer.seek_to_beginning(*held)
            except IllegalStateError as exc:
                # A rebalance took partitions away meanwhile; their new owner starts from the
                # (lost, so earliest) committed offsets anyway.
                log.info("consumer %s: rewind after a rebalance: %r", self.name, exc)

    async def _commit_all(self, offsets: dict[TopicPartition, int]) -> None:
        assert self._consumer is not None
        try:
            await self._consumer.commit(offsets)
            self._committed.update(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # A partition moved to another member during a rebalance. Its new owner
            # starts from the last committed offset; the inbox absorbs the overlap.
            log.info("offset commit for %s skipped after a rebalance: %r", sorted(offsets, key=str), exc)

    # -- records ---------------------------------------------------------------------

    async def process_batch(self, records: list[ConsumerRecord]) -> None:
        """Apply one fetch's records in one transaction; one by one if that fails (in their order)."""
        decoded = [item for item in [await self._decode(record) for record in records] if item is not None]
        # A re-driven record takes the one-by-one path (with the batch's others, to keep their order).
        if len(decoded) > 1 and not any(item.redriven for item in decoded):
            try:
                for outcome in await self._apply_together(decoded):
                    self._count(outcome)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info("consumer %s: batch of %d failed (%r); applying one by one", self.name, len(decoded), exc)
        for item in decoded:
            await self._apply_with_retries(item)

    async def _decode(self, record: ConsumerRecord) -> _Decoded | None:
        """The record with its envelope, handler and payload; None (counted) if skipped or dead-lettered."""
        try:
            event = from_kafka_headers(record.headers)
        except EnvelopeError as poison:
            await self._dead_letter(record, poison, event=None)
            self._count("dead_lettered")
            return None
        registration = self.handlers.get(event.type)
        if registration is None:
            self._count("skipped")
            return None
        try:
            payload = registration.model.model_validate_json(record.value or b"")
        except ValidationError as invalid:
            await self._dead_letter(record, invalid, event=event)
            self._count("dead_lettered")
            return None
        redriven = dict(record.headers).get(REDRIVE_HEADER) == self.name.encode()
        return _Decoded(record, event, registration.handler, payload, redriven, registration.batch)

    async def _apply_together(self, items: list[_Decoded]) -> list[str]:
        async with self.session_factory() as session, session.begin():
            # Executemany of one constant statement (SQLAlchemy's insertmanyvalues sends the
            # rows in one multi-row INSERT): compiling a statement with the rows as literal
            # VALUES cost 80 ms of CPU per 500-row fetch, most of the consumer's own time (#18).
            new_ids = set(
                (
                    await session.execute(
                        _CLAIM_INBOX, [self._inbox_row(item.record, item.event, "applied") for item in items]
                    )
                ).scalars()
            )
            outcomes = []
            run: list[_Decoded] = []  # consecutive new events of one batch handler, not yet applied
            for item in items:
                if item.event.id not in new_ids:
                    outcomes.append("duplicate")
                    continue
                new_ids.discard(item.event.id)  # a second copy later in the same fetch is a duplicate
                if run and item.batch is not run[0].batch:
                    await self._run_batch(session, run)
                    run = []
                if item.batch is not None:
                    run.append(item)
                else:
                    await self._run_handler(session, item)
                outcomes.append("applied")
            if run:
                await self._run_batch(session, run)
            return outcomes

    async def _apply_with_retries(self, item: _Decoded) -> str:
        attempt = 0
        while True:
            try:
                return self._count(await self._apply(item))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_transient(exc):
                    delay = self._backoff(attempt)
                    log.warning(
                        "consumer %s: transient failure on %s, retrying in %.1fs: %r",
                        self.name,
                        item.event.id,
                        delay,
                        exc,
                    )
                    await asyncio.sleep(delay)
                    attempt = min(attempt + 1, 10)
                    continue
                attempt += 1
                if attempt >= self.settings.max_attempts:
                    await self._dead_letter(item.record, exc, event=item.event)
                    return self._count("dead_lettered")
                await asyncio.sleep(self._backoff(attempt))

    async def _apply(self, item: _Decoded) -> str:
        async with self.session_factory() as session, session.begin():
            if not await self._record_in_inbox(
                session, item.record, item.event, outcome="applied", retry_dead_letter=item.redriven
            ):
                return "duplicate"
            await self._run_handler(session, item)
        return "applied"

    @staticmethod
    async def _run_handler(session: AsyncSession, item: _Decoded) -> None:
        token = current_traceparent.set(item.event.traceparent)
        try:
            await item.handler(session, item.event, item.payload)
        finally:
            current_traceparent.reset(token)

    @staticmethod
    async def _run_batch(session: AsyncSession, run: list[_Decoded]) -> None:
        # Events of a batch may come from several requests: none of their trace contexts is
        # "the" one, so what the batch handler writes carries none.
        token = current_traceparent.set(None)
        try:
            assert run[0].batch is not None
            await run[0].batch(session, [(item.event, item.payload) for item in run])
        finally:
            current_traceparent.reset(token)

    def _inbox_row(self, record: ConsumerRecord, event: CloudEvent, outcome: str) -> dict[str, object]:
        return {
            "consumer": self.name,
            "event_id": event.id,
            "event_type": event.type,
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "outcome": outcome,
            "event_time": event.time,
        }

    async def _record_in_inbox(
        self,
        session: AsyncSession,
        record: ConsumerRecord,
        event: CloudEvent,
        outcome: str,
        *,
        retry_dead_letter: bool = False,
    ) -> bool:
        """Claim the event for this consumer; False if it was handled before.

        ``retry_dead_letter`` also claims an event this consumer dead-lettered (a re-drive):
        the row turns ``applied`` in the handler's transaction, so a second re-drive of the
        same event finds it applied and is a duplicate."""
        row = self._inbox_row(record, event, outcome)
        insert = pg_insert(inbox_events).values(row)
        if retry_dead_letter:
            statement = insert.on_conflict_do_update(
                index_elements=["consumer", "event_id"],
                set_={
                    "outcome": outcome,
                    "topic": record.topic,
                    "partition": record.partition,
                    "offset": record.offset,
                },
                where=inbox_events.c.outcome == "dead_lettered",
            )
        else:
            statement = insert.on_conflict_do_nothing(index_elements=["consumer", "event_id"])
        return (await session.execute(statement.returning(inbox_events.c.event_id))).first() is not None

    async def _dead_letter(self, record: ConsumerRecord, error: BaseException, event: CloudEvent | None) -> None:
        """Publish the record to ``<topic>.dlq``; waits out a broker outage rather than dropping it."""
        headers = [
            *record.headers,
            ("dlq_consumer", self.name.encode()),
            ("dlq_error_type", type(error).__name__.encode()),
            ("dlq_error", str(error)[:2000].encode()),
            ("dlq_trace", "".join(traceback.format_exception_only(type(error), error))[:2000].encode()),
            ("dlq_source_topic", record.topic.encode()),
            ("dlq_source_partition", str(record.partition).encode()),
            ("dlq_source_offset", str(record.offset).encode()),
            ("dlq_failed_at", datetime.now(UTC).isoformat().encode()),
        ]
        log.error(
            "consumer %s: dead-lettering %s[%d]@%d: %r", self.name, record.topic, record.partition, record.offset, error
        )
        attempt = 0
        while True:
            try:
                assert self._producer is not None, "consumer not started"
                await self._producer.send_and_wait(
                    dead_letter_topic(record.topic), value=record.value, key=record.key, headers=headers
                )
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                attempt += 1
                log.warning("consumer %s: dead-letter publish failed, retrying: %r", self.name, exc)
                await asyncio.sleep(self._backoff(attempt))
        if event is not None:
            await self._mark_dead_lettered(record, event)

    async def _mark_dead_lettered(self, record: ConsumerRecord, event: CloudEvent) -> None:
        """Remember the dead letter so a replay of the same event does not dead-letter it twice."""
        async with self.session_factory() as session, session.begin():
            await self._record_in_inbox(session, record, event, outcome="dead_lettered")

    def _backoff(self, attempt: int) -> float:
        base: float = min(self.settings.initial_backoff * (2**attempt), self.settings.max_backoff)
        return base * (0.5 + random.random() / 2)

    def _count(self, outcome: str) -> str:
        PROCESSED.labels(self.name, outcome).inc()
        return outcome
