"""How this service writes events: one at a time through the outbox, or set-based in SQL.

``emit`` is the outbox's ``add`` in the caller's transaction. The reminder worker emits
thousands of ``ActivityDueV1`` a second in a burst; building a pydantic model per event
would make that a Python loop per reminder, so ``fire_reminders_sql`` has PostgreSQL stamp
the due reminders and build the same outbox rows in one statement (the shared writer's
``insert_select_sql``: envelope and headers; this module: the payload). Only constants go
into the SQL text; the time, the batch size and the traceparent are bound parameters.
The integration tests parse such rows back with the contract model.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from relacja_contracts import CloudEvent, EventPayload
from relacja_contracts.events import ActivityDueV1
from relacja_messaging import Outbox
from relacja_messaging.outbox import ce_time_sql
from relacja_messaging.tracing import current_traceparent

from .settings import EVENT_SOURCE

__all__ = ["emit", "fire_reminders_sql", "reminder_params"]

_outbox = Outbox(EVENT_SOURCE)


async def emit(session: Any, payload: EventPayload) -> CloudEvent:
    return await _outbox.add(session, payload)


def reminder_params(now: datetime, batch_size: int) -> dict[str, Any]:
    return {"at": now, "batch": batch_size, "traceparent": current_traceparent.get()}


def _time(column: str) -> str:
    return f"CASE WHEN {column} IS NULL THEN NULL ELSE {ce_time_sql(column)} END"


# Armed reminders due by :at, oldest first, locked SKIP LOCKED (another worker's rows are
# left to it); the predicate repeats ix_activities_reminder's so the planner uses it.
_FIRE = """
WITH due AS (
    SELECT id FROM activities
    WHERE reminded_at IS NULL AND status = 'open' AND remind_at IS NOT NULL AND remind_at <= CAST(:at AS timestamptz)
    ORDER BY remind_at
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
), fired AS (
    UPDATE activities AS a SET reminded_at = CAST(:at AS timestamptz)
    FROM due WHERE a.id = due.id
    RETURNING a.id, a.customer_id, a.kind, a.assignee_id, a.team, a.opportunity_id, a.due_at, a.remind_at
)
"""

_PAYLOAD = (
    "jsonb_build_object('customer_id', f.customer_id::text, 'activity_id', f.id::text, 'kind', f.kind, "
    "'assignee_id', f.assignee_id, 'team', f.team, 'opportunity_id', f.opportunity_id::text, "
    f"'due_at', {_time('f.due_at')}, 'remind_at', {_time('f.remind_at')}, "
    f"'occurred_at', {ce_time_sql('CAST(:at AS timestamptz)')})"
)


def fire_reminders_sql() -> str:
    """One statement: stamp up to :batch due reminders and write their ``ActivityDueV1``;
    its row count is the number fired. Binds ``reminder_params()``."""
    rows = f"SELECT f.customer_id AS subject, {_PAYLOAD} AS payload FROM fired AS f"
    return _FIRE + _outbox.insert_select_sql(ActivityDueV1, rows, time=":at", traceparent=":traceparent")
