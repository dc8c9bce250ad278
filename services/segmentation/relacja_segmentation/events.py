"""How this service writes events: one at a time through the outbox, or set-based in SQL.

``emit`` is the outbox's ``add`` in the caller's transaction. A full recomputation or a
newly saved segment can change hundreds of thousands of customers at once; building a
pydantic model per event would make that a Python loop per customer, so
``insert_events_sql`` builds the same outbox rows (CloudEvents headers included) in one
``INSERT ... SELECT``. Only constants of this module go into the SQL text; every value
(customer ids, segment names) is a column or a bound parameter. The integration tests
parse such rows back with the contract models to keep the two paths identical.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent, EventPayload
from relacja_contracts.envelope import SPEC_VERSION
from relacja_contracts.events import CustomerSegmentChangedV1, SegmentMemberAddedV1, SegmentMemberRemovedV1
from relacja_contracts.topics import SEGMENTATION
from relacja_messaging import Outbox
from relacja_messaging.outbox import BULK_EVENT_ID_SQL

from .settings import EVENT_SOURCE

__all__ = ["emit", "changed_events_sql", "membership_events_sql", "rfc3339"]

_outbox = Outbox(EVENT_SOURCE)


async def emit(session: AsyncSession, payload: EventPayload) -> CloudEvent:
    return await _outbox.add(session, payload)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _insert(event_type: str, rows_sql: str, payload_sql: str) -> str:
    """``rows_sql`` yields a ``customer_id`` column (and what ``payload_sql`` uses); ``:at`` is the event time."""
    return f"""
INSERT INTO outbox_events (event_id, topic, key, event_type, headers, payload)
SELECT e.id, '{SEGMENTATION.name}', e.subject, '{event_type}',
       jsonb_build_array(
           jsonb_build_array('ce_specversion', '{SPEC_VERSION}'),
           jsonb_build_array('ce_id', e.id::text),
           jsonb_build_array('ce_source', '{EVENT_SOURCE}'),
           jsonb_build_array('ce_type', '{event_type}'),
           jsonb_build_array('ce_subject', e.subject),
           jsonb_build_array('ce_time', CAST(:at AS text)),
           jsonb_build_array('content-type', 'application/json')),
       e.payload
FROM (SELECT {BULK_EVENT_ID_SQL} AS id, r.customer_id::text AS subject, {payload_sql} AS payload
      FROM ({rows_sql}) AS r) AS e
"""


def changed_events_sql(rows_sql: str, trigger: str = "recomputation") -> str:
    """CustomerSegmentChangedV1 rows for ``rows_sql`` yielding (customer_id, dimension, old, new)."""
    assert trigger in ("event", "recomputation")
    payload = (
        "jsonb_build_object('customer_id', r.customer_id::text, 'dimension', r.dimension, 'old', r.old, 'new', r.new, "
        f"'trigger', '{trigger}', 'occurred_at', CAST(:at AS text))"
    )
    return _insert(CustomerSegmentChangedV1.event_type, rows_sql, payload)


def membership_events_sql(rows_sql: str, *, added: bool, trigger: str) -> str:
    """SegmentMemberAdded/RemovedV1 rows for ``rows_sql`` yielding customer_id; binds :segment_id, :segment_name, :at."""
    assert trigger in ("event", "recomputation", "segment_saved")
    model = SegmentMemberAddedV1 if added else SegmentMemberRemovedV1
    payload = (
        "jsonb_build_object('customer_id', r.customer_id::text, 'segment_id', CAST(:segment_id AS text), "
        f"'segment_name', CAST(:segment_name AS text), 'trigger', '{trigger}', 'occurred_at', CAST(:at AS text))"
    )
    return _insert(model.event_type, rows_sql, payload)
