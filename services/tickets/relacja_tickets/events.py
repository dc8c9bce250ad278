"""``emit``: the one way this service writes an event (to the outbox, in the caller's
transaction), and ``snapshot``: the ticket fields every ticket event carries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from relacja_contracts import CloudEvent, EventPayload
from relacja_messaging import Outbox

from .settings import EVENT_SOURCE

__all__ = ["emit", "snapshot"]

_outbox = Outbox(EVENT_SOURCE)


async def emit(session: Any, payload: EventPayload) -> CloudEvent:
    return await _outbox.add(session, payload)


def snapshot(ticket: Any, occurred_at: datetime) -> dict[str, Any]:
    """The ``_TicketSnapshot`` fields of a ticket row (or mapping) after the change."""
    row = ticket._mapping if hasattr(ticket, "_mapping") else ticket
    return {
        "customer_id": row["customer_id"],
        "ticket_id": row["id"],
        "type": row["type"],
        "channel": row["channel"],
        "priority": row["priority"],
        "status": row["status"],
        "team": row["team"],
        "assignee_id": row["assignee_id"],
        "order_id": row["order_id"],
        "opened_at": row["opened_at"],
        "occurred_at": occurred_at,
    }
