"""``emit``: the one way this service writes an event (to the outbox, in the caller's transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from relacja_contracts import CloudEvent, EventPayload
from relacja_messaging import Outbox
from relacja_messaging.outbox import WrittenEvent

from .settings import EVENT_SOURCE

__all__ = ["emit", "emit_many"]

_outbox = Outbox(EVENT_SOURCE)


async def emit(session: Any, payload: EventPayload) -> CloudEvent:
    return await _outbox.add(session, payload)


async def emit_many(session: Any, payloads: Sequence[EventPayload]) -> list[WrittenEvent]:
    """One COPY for a batch (the reminder worker writes thousands per round)."""
    return await _outbox.add_many(session, payloads)
