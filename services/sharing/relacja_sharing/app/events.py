"""``emit`` and ``emit_many``: the one way the sharing service writes events (to the outbox, in
the caller's transaction) — one event, or a batch in one COPY."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent, EventPayload
from relacja_messaging import Outbox

from ..settings import EVENT_SOURCE

__all__ = ["emit", "emit_many"]

_outbox = Outbox(EVENT_SOURCE)


async def emit(session: AsyncSession, payload: EventPayload) -> CloudEvent:
    return await _outbox.add(session, payload)


async def emit_many(session: AsyncSession, payloads: Sequence[EventPayload]) -> None:
    await _outbox.add_many(session, payloads)
