"""``emit``: the one way this service writes an event.

It adds the event to the outbox (published by the relay) and to the customer's event log
(read by the timeline), in the caller's transaction.
"""

from __future__ import annotations

import uuid

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent, EventPayload
from relacja_messaging import Outbox

from .settings import EVENT_SOURCE
from .tables import customer_event_log

__all__ = ["emit"]

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
