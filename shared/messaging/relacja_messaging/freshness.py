"""How fresh an event-fed read model is: per (consumer, source topic), read from the inbox.

The inbox (``tables.inbox_events``) holds one row per applied event, written in the
transaction of its effect, with the event's CloudEvents ``time`` and the moment it was
applied. So the newest applied row of a (consumer, topic) says, exactly and without any
bookkeeping of its own:

    last_event_time   the ``time`` (ce_time) of the last event applied from that topic
    last_applied_at   when it was applied (committed together with its effect)
    lag_seconds       last_applied_at − last_event_time: how far the read model trailed
                      its source when it last caught up

A client compares ``last_event_time`` with the time of its own write: a read model whose
last applied event is older than the write has "not yet" seen it; one that is newer has
(per partition: topics are keyed by customer id, so one customer's events are in order).
No row yet means the consumer has applied nothing from that topic (``None`` times).

The query takes the newest row by ``processed_at`` (its index serves the backward scan);
dead-lettered events are not counted as applied.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .tables import inbox_events

__all__ = ["SourceFreshness", "source_freshness", "read_model_freshness"]


@dataclass(frozen=True)
class SourceFreshness:
    consumer: str
    topic: str
    last_event_time: datetime | None
    last_applied_at: datetime | None

    @property
    def lag_seconds(self) -> float | None:
        if self.last_event_time is None or self.last_applied_at is None:
            return None
        return max(0.0, (self.last_applied_at - self.last_event_time).total_seconds())


async def source_freshness(session: AsyncSession, consumer: str, topic: str) -> SourceFreshness:
    c = inbox_events.c
    row = (
        await session.execute(
            select(c.event_time, c.processed_at)
            .where(c.consumer == consumer, c.topic == topic, c.outcome == "applied")
            .order_by(c.processed_at.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return SourceFreshness(consumer, topic, None, None)
    return SourceFreshness(consumer, topic, row.event_time, row.processed_at)


async def read_model_freshness(session: AsyncSession, sources: Iterable[tuple[str, str]]) -> list[SourceFreshness]:
    """The freshness of each (consumer, topic) in ``sources``, in that order."""
    return [await source_freshness(session, consumer, topic) for consumer, topic in sources]
