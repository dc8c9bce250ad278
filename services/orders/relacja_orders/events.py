"""``emit``: the one way a live change writes an order event (outbox, caller's transaction).
Imported orders get theirs in bulk from ``bulk_events``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from relacja_messaging import Outbox

from .settings import EVENT_SOURCE
from .snapshot import snapshot

__all__ = ["emit"]

_outbox = Outbox(EVENT_SOURCE)


async def emit(session: AsyncSession, model: type[Any], order: Mapping[str, Any], occurred_at: datetime, **extra: Any) -> None:
    """Write ``model`` (an order event class) about ``order`` as it now stands."""
    payload = model.model_validate(snapshot(order) | {"occurred_at": occurred_at} | extra)
    await _outbox.add(session, payload)
