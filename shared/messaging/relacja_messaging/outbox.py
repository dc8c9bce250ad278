"""The transactional outbox: the one way a service writes events, through the caller's session.

    outbox = Outbox("/relacja/customers")           # one per service: its CloudEvents source

    async with session.begin():
        session.add(customer)
        await outbox.add(session, CustomerRegisteredV1(...))   # one event
        await outbox.add_many(session, payloads)               # a Python batch (COPY)
        await session.execute(text(outbox.insert_select_sql(   # a set built by PostgreSQL
            SegmentMemberAddedV1, rows_sql, time=":at", traceparent=":traceparent")), params)

The event rows commit with the state change or not at all; nothing here talks to Kafka.
The relay publishes each row later, keyed by the payload's subject (the customer id).

All three paths write the same row: ``event_id`` = ``ce_id``, ``key`` = ``ce_subject``,
and the headers ``relacja_contracts.to_kafka_headers`` gives, in its order and with its
``ce_time`` text (``relacja_contracts.envelope.format_time``), plus the ``traceparent`` of
the current request (``tracing.current_traceparent``) when there is one. The SQL path's
header expression is derived from ``to_kafka_headers`` itself, so the names, their order
and the constant values cannot drift; tests/integration/test_event_writer.py reads rows
of all three paths back and compares them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent, EventPayload, to_kafka_headers

from .driver import asyncpg_connection
from .tracing import current_traceparent

__all__ = ["Outbox", "OutboxRecord", "WrittenEvent", "BULK_EVENT_ID_SQL", "ce_time_sql", "payload_time_sql"]

# The event id for outbox rows built in SQL by bulk writers (millions in one statement):
# a UUIDv7 (RFC 9562) — 48 bits of Unix milliseconds, then random bits — computed with
# functions PostgreSQL 13+ has (18's uuidv7() would do, but deployments run 16). Ids that
# grow with time land at the right edge of the unique index on event_id instead of on
# random pages of it: writing 3,000,000 rows after 2,000,000 took 23 s instead of 33 s
# with gen_random_uuid() (128 MB shared_buffers). Consumers treat ids as opaque strings.
BULK_EVENT_ID_SQL = (
    "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing "
    "substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6), "
    "52, 1), 53, 1), 'hex')::uuid"
)


class OutboxRecord(NamedTuple):
    """One ``outbox_events`` row as this writer builds it, the JSON columns as text."""

    event_id: uuid.UUID
    topic: str
    key: str
    event_type: str
    headers: str
    payload: str


_COLUMNS = list(OutboxRecord._fields)
_INSERT_ONE = text(
    "INSERT INTO outbox_events (event_id, topic, key, event_type, headers, payload) "
    "VALUES (:event_id, :topic, :key, :event_type, CAST(:headers AS jsonb), CAST(:payload AS jsonb))"
)


def ce_time_sql(moment: str) -> str:
    """SQL for the ``ce_time`` text of the timestamptz expression ``moment``: the text
    ``format_time`` writes (RFC 3339, UTC, six fraction digits, ``Z``)."""
    return f"""to_char(({moment}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def payload_time_sql(moment: str) -> str:
    """SQL for a payload's datetime field as pydantic writes it (RFC 3339, UTC, ``Z``; the
    fraction only when there is one), for payloads built by PostgreSQL (``insert_select_sql``)."""
    utc = f"(({moment}) AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
        f"|| CASE WHEN date_part('microseconds', {utc})::bigint % 1000000 = 0 THEN '' ELSE to_char({utc}, '.US') END || 'Z'"
    )


@dataclass(frozen=True, slots=True)
class WrittenEvent:
    """An event ``add_many`` wrote: its envelope and its payload as the JSON text stored,
    for a caller that records the event elsewhere too (customers' event log)."""

    event: CloudEvent
    payload_json: str


class Outbox:
    def __init__(self, source: str) -> None:
        """``source`` is the CloudEvents source of everything this service emits, e.g. ``/relacja/customers``."""
        self.source = source

    async def add(self, session: AsyncSession, payload: EventPayload) -> CloudEvent:
        """Write one event in the session's transaction."""
        event = self._envelope(payload, current_traceparent.get())
        await session.execute(_INSERT_ONE, _record(event, payload.topic.name, payload.model_dump_json())._asdict())
        return event

    def record(self, payload: EventPayload) -> OutboxRecord:
        """The row ``add`` would write for ``payload`` (a fresh event), for tools that write
        rows themselves (the relay and latency benchmarks)."""
        event = self._envelope(payload, current_traceparent.get())
        return _record(event, payload.topic.name, payload.model_dump_json())

    async def add_many(self, session: AsyncSession, payloads: Sequence[EventPayload]) -> list[WrittenEvent]:
        """Write many events in the session's transaction, the rows ``add`` would write, in one COPY.

        COPY rather than an executemany INSERT: for 1,000 events the INSERT took two to
        four times as long (SQLAlchemy's parameter processing per value; measured in the
        customers import, which writes its events through here).
        """
        traceparent = current_traceparent.get()
        written: list[WrittenEvent] = []
        records: list[OutboxRecord] = []
        for payload in payloads:
            event, body = self._envelope(payload, traceparent), payload.model_dump_json()
            written.append(WrittenEvent(event, body))
            records.append(_record(event, payload.topic.name, body))
        if records:
            # session.connection() opens the session's transaction if the batch had not yet.
            connection = await asyncpg_connection(session)
            await connection.copy_records_to_table("outbox_events", records=records, columns=_COLUMNS)
        return written

    def insert_select_sql(self, model: type[EventPayload], rows_sql: str, *, time: str, traceparent: str) -> str:
        """``INSERT INTO outbox_events ... SELECT``: one ``model`` event per row of ``rows_sql``.

        ``rows_sql`` is a query yielding ``subject`` (the customer id) and ``payload``
        (jsonb, the service's business). ``time`` and ``traceparent`` are the statement's
        bound parameters (``$1`` / ``:at``) holding the event time (timestamptz, or RFC
        3339 text) and ``current_traceparent.get()`` (text or NULL). Values never enter
        the SQL text; only this writer's constants do, so the text can be prepared once.
        """
        return (
            f"INSERT INTO outbox_events ({', '.join(_COLUMNS)}) "
            f"SELECT e.event_id, {_literal(model.topic.name)}, e.subject, {_literal(model.event_type)}, "
            f"{self._headers_sql(model, f'CAST({time} AS timestamptz)', f'CAST({traceparent} AS text)')}, e.payload "
            f"FROM (SELECT {BULK_EVENT_ID_SQL} AS event_id, r.subject::text AS subject, r.payload "
            f"FROM ({rows_sql}) AS r) AS e"
        )

    def _envelope(self, payload: EventPayload, traceparent: str | None) -> CloudEvent:
        return CloudEvent.for_payload(payload, source=self.source, traceparent=traceparent)

    def _headers_sql(self, model: type[EventPayload], time: str, traceparent: str) -> str:
        """The headers as a jsonb ``[[name, value], ...]``, in ``to_kafka_headers``' order:
        its output for a sample event, with the per-row values replaced by SQL."""
        sample = CloudEvent(
            id=str(uuid.UUID(int=0)),
            source=self.source,
            type=model.event_type,
            subject="",
            time=datetime.now(UTC),
            traceparent="-",
        )
        per_row = {"ce_id": "e.event_id::text", "ce_subject": "e.subject", "ce_time": ce_time_sql(time)}
        pairs, has_traceparent = [], False
        for name, value in to_kafka_headers(sample):
            if name == "traceparent":
                has_traceparent = True  # optional: added below only when the request had one
                continue
            pairs.append(f"jsonb_build_array({_literal(name)}, {per_row.get(name) or _literal(value.decode())})")
        assert has_traceparent, "to_kafka_headers no longer writes traceparent"
        return (
            f"jsonb_build_array({', '.join(pairs)}) || CASE WHEN {traceparent} IS NULL THEN '[]'::jsonb "
            f"ELSE jsonb_build_array(jsonb_build_array('traceparent', {traceparent})) END"
        )


def _record(event: CloudEvent, topic: str, payload_json: str) -> OutboxRecord:
    headers = [[name, value.decode()] for name, value in to_kafka_headers(event)]
    return OutboxRecord(uuid.UUID(event.id), topic, event.subject, event.type, json.dumps(headers), payload_json)


def _literal(value: str) -> str:
    """A SQL string literal (standard_conforming_strings, PostgreSQL's default since 9.1)."""
    return "'" + value.replace("'", "''") + "'"
