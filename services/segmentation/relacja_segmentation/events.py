"""How this service writes events: one at a time through the outbox, or set-based in SQL.

``emit`` is the outbox's ``add`` in the caller's transaction. A full recomputation or a
newly saved segment can change hundreds of thousands of customers at once; building a
pydantic model per event would make that a Python loop per customer, so
``changed_events_sql`` and ``membership_events_sql`` have PostgreSQL build the same outbox
rows in one ``INSERT ... SELECT`` (the shared writer's ``insert_select_sql``: envelope and
headers; this module: the payloads). Only constants of this module go into the SQL text;
every value (customer ids, segment names, the time, the traceparent) is a column or a
bound parameter — ``bulk_params()`` gives the ones every such statement takes. The
integration tests parse such rows back with the contract models.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent, EventPayload
from relacja_contracts.events import CustomerSegmentChangedV1, SegmentMemberAddedV1, SegmentMemberRemovedV1
from relacja_messaging import Outbox
from relacja_messaging.outbox import ce_time_sql
from relacja_messaging.tracing import current_traceparent

from .settings import EVENT_SOURCE

__all__ = ["emit", "bulk_params", "changed_events_sql", "membership_events_sql"]

_outbox = Outbox(EVENT_SOURCE)

# The payloads' occurred_at: the event time in the text the envelope's ce_time has.
_OCCURRED_AT = ce_time_sql("CAST(:at AS timestamptz)")


async def emit(session: AsyncSession, payload: EventPayload) -> CloudEvent:
    return await _outbox.add(session, payload)


def bulk_params() -> dict[str, Any]:
    """The parameters of a set-based event statement: ``:at`` (the event time) and
    ``:traceparent`` (the current request's, or None)."""
    return {"at": datetime.now(UTC), "traceparent": current_traceparent.get()}


def _insert(model: type[EventPayload], rows_sql: str, payload_sql: str) -> str:
    """``rows_sql`` yields a ``customer_id`` column (and what ``payload_sql`` uses)."""
    rows = f"SELECT r.customer_id AS subject, {payload_sql} AS payload FROM ({rows_sql}) AS r"
    return _outbox.insert_select_sql(model, rows, time=":at", traceparent=":traceparent")


def changed_events_sql(rows_sql: str, trigger: str = "recomputation") -> str:
    """CustomerSegmentChangedV1 rows for ``rows_sql`` yielding (customer_id, dimension, old, new); binds ``bulk_params()``."""
    assert trigger in ("event", "recomputation")
    payload = (
        "jsonb_build_object('customer_id', r.customer_id::text, 'dimension', r.dimension, 'old', r.old, 'new', r.new, "
        f"'trigger', '{trigger}', 'occurred_at', {_OCCURRED_AT})"
    )
    return _insert(CustomerSegmentChangedV1, rows_sql, payload)


def membership_events_sql(rows_sql: str, *, added: bool, trigger: str) -> str:
    """SegmentMemberAdded/RemovedV1 rows for ``rows_sql`` yielding customer_id; binds :segment_id, :segment_name and ``bulk_params()``."""
    assert trigger in ("event", "recomputation", "segment_saved")
    payload = (
        "jsonb_build_object('customer_id', r.customer_id::text, 'segment_id', CAST(:segment_id AS text), "
        f"'segment_name', CAST(:segment_name AS text), 'trigger', '{trigger}', 'occurred_at', {_OCCURRED_AT})"
    )
    return _insert(SegmentMemberAddedV1 if added else SegmentMemberRemovedV1, rows_sql, payload)
