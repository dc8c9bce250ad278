"""``emit``: the one way this service writes an event (``emit_many``: several at once).

It adds the event to the outbox (published by the relay) and to the customer's event log
(read by the timeline), in the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent, EventPayload
from relacja_messaging import Outbox

from .settings import EVENT_SOURCE
from .tables import customer_event_log

__all__ = ["emit", "emit_many"]

_outbox = Outbox(EVENT_SOURCE)


async def emit(session: AsyncSession, payload: EventPayload) -> CloudEvent:
    event = await _outbox.add(session, payload)
    await session.execute(
        insert(customer_event_log).values(
            event_id=uuid.UUID(event.id),
            customer_id=uuid.UUID(event.subject),
            event_type=event.type,
            occurred_at=event.time,
            payload=payload.model_dump(mode="json"),
        )
    )
    return event


async def emit_many(session: AsyncSession, payloads: Sequence[EventPayload]) -> None:
    """``emit`` for each, in two statements instead of two per event (a consumer's batch)."""
    written = await _outbox.add_many(session, payloads)
    if written:
        await session.execute(
            insert(customer_event_log).values(
                [
                    {
                        "event_id": uuid.UUID(w.event.id),
                        "customer_id": uuid.UUID(w.event.subject),
                        "event_type": w.event.type,
                        "occurred_at": w.event.time,
                        "payload": payload.model_dump(mode="json"),
                    }
                    for w, payload in zip(written, payloads, strict=True)
                ]
            )
        )
