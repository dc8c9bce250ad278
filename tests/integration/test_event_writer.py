"""One event writer, three paths: ``Outbox.add`` (one event), ``Outbox.add_many`` (a Python
batch) and ``Outbox.insert_select_sql`` (a set built by PostgreSQL) write outbox rows whose
CloudEvents headers have the same names, order, constant values and formats — ``ce_time``
in the one RFC 3339 text, ``traceparent`` of the request — and contract-valid payloads."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from relacja_contracts import from_kafka_headers
from relacja_contracts.envelope import format_time
from relacja_contracts.events import SegmentMemberAddedV1
from relacja_messaging import Outbox
from relacja_messaging.outbox import ce_time_sql
from relacja_messaging.tables import outbox_events
from relacja_messaging.tracing import current_traceparent

SOURCE = "/relacja/segmentation"
TRACEPARENT = "00-" + "4bf92f3577b34da6a3ce929d0e0e4736" + "-" + "00f067aa0ba902b7" + "-01"
CE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
SEGMENT_ID = uuid.UUID("0190a6f0-0000-7000-8000-000000000001")

# The set-based path for SegmentMemberAddedV1: one event per customer id in :customers.
ROWS_SQL = (
    "SELECT c AS subject, jsonb_build_object('customer_id', c::text, 'segment_id', CAST(:segment_id AS text), "
    f"'segment_name', CAST(:segment_name AS text), 'trigger', 'recomputation', 'occurred_at', {ce_time_sql('CAST(:at AS timestamptz)')}) "
    "AS payload FROM unnest(CAST(:customers AS uuid[])) AS c"
)


def member_added(customer_id: uuid.UUID) -> SegmentMemberAddedV1:
    return SegmentMemberAddedV1(
        customer_id=customer_id,
        segment_id=SEGMENT_ID,
        segment_name="VIP",
        trigger="recomputation",
        occurred_at=datetime.now(UTC),
    )


async def write_by_every_path(sessions: async_sessionmaker, at: datetime) -> dict[str, list[uuid.UUID]]:
    """Write events by each path in one transaction; returns the customer ids per path."""
    outbox = Outbox(SOURCE)
    customers = {
        path: [uuid.uuid4() for _ in range(count)] for path, count in (("add", 1), ("add_many", 3), ("sql", 3))
    }
    async with sessions() as session, session.begin():
        await outbox.add(session, member_added(customers["add"][0]))
        written = await outbox.add_many(session, [member_added(c) for c in customers["add_many"]])
        assert [w.event.subject for w in written] == [str(c) for c in customers["add_many"]]
        result = await session.execute(
            text(outbox.insert_select_sql(SegmentMemberAddedV1, ROWS_SQL, time=":at", traceparent=":traceparent")),
            {
                "customers": customers["sql"],
                "segment_id": str(SEGMENT_ID),
                "segment_name": "VIP",
                "at": at,
                "traceparent": current_traceparent.get(),
            },
        )
        assert result.rowcount == 3
    return customers


async def rows_by_path(engine: AsyncEngine, customers: dict[str, list[uuid.UUID]]) -> dict[str, list[dict]]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox_events).order_by(outbox_events.c.id))).mappings().all()
    by_key = {row["key"]: dict(row) for row in rows}
    assert len(by_key) == sum(len(ids) for ids in customers.values())
    return {path: [by_key[str(c)] for c in ids] for path, ids in customers.items()}


def check_row(row: dict, traceparent: str | None) -> tuple[list[str], dict[str, str]]:
    """What must hold for every outbox row; returns its header names and values."""
    names = [name for name, _ in row["headers"]]
    values = dict(row["headers"])
    assert len(names) == len(values), "a header appears twice"
    assert CE_TIME.match(values["ce_time"]), values["ce_time"]
    assert datetime.fromisoformat(values["ce_time"]).tzinfo is not None
    envelope = from_kafka_headers([(name, value.encode()) for name, value in row["headers"]])
    assert envelope.id == str(row["event_id"]) and envelope.subject == row["key"]
    assert (
        envelope.type == row["event_type"] == SegmentMemberAddedV1.event_type and row["topic"] == "relacja.segmentation"
    )
    assert envelope.source == SOURCE and envelope.traceparent == traceparent
    payload = SegmentMemberAddedV1.model_validate(row["payload"])
    assert str(payload.customer_id) == row["key"] and payload.segment_id == SEGMENT_ID
    return names, values


@pytest.mark.parametrize("traceparent", [TRACEPARENT, None], ids=["traced-request", "no-trace"])
async def test_every_path_writes_the_same_headers(
    scratch_engine: AsyncEngine, sessions: async_sessionmaker, traceparent: str | None
) -> None:
    token = current_traceparent.set(traceparent)
    try:
        # A whole second: the text keeps its six fraction digits (Python's plain isoformat would drop them).
        at = datetime.now(UTC).replace(microsecond=0)
        before = datetime.now(UTC)
        by_path = await rows_by_path(scratch_engine, await write_by_every_path(sessions, at))
    finally:
        current_traceparent.reset(token)

    checked = {path: [check_row(row, traceparent) for row in rows] for path, rows in by_path.items()}
    single_names, single_values = checked["add"][0]
    expected = ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time", "content-type"]
    assert single_names == expected + (["traceparent"] if traceparent else [])
    constant = {name: single_values[name] for name in ("ce_specversion", "ce_source", "ce_type", "content-type")}
    for path, results in checked.items():
        for names, values in results:
            assert names == single_names, path
            assert {name: values[name] for name in constant} == constant, path
    # Ids and times differ in value only: one id per row; times are the writers' clocks.
    ids = [values["ce_id"] for results in checked.values() for _, values in results]
    assert len(set(ids)) == len(ids)
    for _, values in checked["add"] + checked["add_many"]:
        assert abs(datetime.fromisoformat(values["ce_time"]) - before) < timedelta(minutes=1)
    for _, values in checked["sql"]:
        assert values["ce_time"] == format_time(at) and values["ce_time"].endswith(".000000Z")
    for row in by_path["sql"]:
        assert row["payload"]["occurred_at"] == format_time(at)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 22, 12, 0, tzinfo=UTC),
        datetime(2026, 11, 22, 12, 0, 0, 7, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 3, 29, 2, 30, 0, 120000, tzinfo=timezone(timedelta(hours=2))),  # an offset becomes UTC
    ],
)
async def test_sql_and_python_write_one_ce_time_text(scratch_engine: AsyncEngine, moment: datetime) -> None:
    async with scratch_engine.connect() as conn:
        # The session's zone must not matter: the text is UTC whatever the connection's TimeZone.
        await conn.execute(text("SET TIME ZONE 'America/Sao_Paulo'"))
        written = (
            await conn.execute(text(f"SELECT {ce_time_sql('CAST(:t AS timestamptz)')}"), {"t": moment})
        ).scalar_one()
    assert written == format_time(moment)
    assert CE_TIME.match(written) and datetime.fromisoformat(written) == moment
