"""``emit``: the one way this service writes an event (to the outbox, in the caller's transaction)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent, EventPayload
from relacja_messaging import Outbox

from .settings import EVENT_SOURCE

__all__ = ["emit"]

_outbox = Outbox(EVENT_SOURCE)


async def emit(session: AsyncSession, payload: EventPayload) -> CloudEvent:
    return await _outbox.add(session, payload)
