"""The reminder worker: ``ActivityDueV1`` within seconds of each reminder time, exactly once.

Each round:

1. ``fire_reminders``: open activities whose ``remind_at`` has passed and whose reminder was
   not emitted — read through the partial index ``ix_activities_reminder`` (only armed
   reminders are in it, so the cost does not grow with the number of activities) — are
   locked ``FOR UPDATE SKIP LOCKED``, stamped ``reminded_at`` and their events written to
   the outbox by the same statement (``events.fire_reminders_sql``: no Python per event). Two workers (two replicas)
   never take the same row, and a row stamped in a committed transaction is out of the
   index: each reminder is emitted once. A crash before the commit rolls both back and the
   next round emits it.
2. Sleep until the next reminder (one index lookup), at most ``reminder_poll_seconds``.

A round looks up the next reminder first and fires only when one is due, so an idle round
is that one lookup (it was a firing transaction and the lookup, every second).

100,000 reminders in one minute are 50 batches of 2,000: see docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from relacja_messaging.errors import is_transient
from relacja_servicekit.app import Background, Worker
from relacja_servicekit.db import Database

from .events import fire_reminders_sql, reminder_params
from .settings import SalesSettings
from .tables import activities

__all__ = ["fire_reminders", "next_reminder", "ReminderWorker", "reminder_background"]

log = logging.getLogger(__name__)

_FIRE_SQL = fire_reminders_sql()

_RETRY_AFTER_OUTAGE = 5.0
_MIN_PAUSE = 0.05


def _armed() -> ColumnElement[bool]:
    c = activities.c
    # Repeats the predicate of ix_activities_reminder, so the planner uses it.
    return and_(c.reminded_at.is_(None), c.status == "open", c.remind_at.is_not(None))


async def fire_reminders(sessions: async_sessionmaker[AsyncSession], now: datetime, *, batch_size: int = 2_000) -> int:
    """Emit one batch of reminders due by ``now`` (one statement, one transaction); how many."""
    async with sessions() as session, session.begin():
        result = await session.execute(text(_FIRE_SQL), reminder_params(now, batch_size))
        return int(result.rowcount)  # type: ignore[attr-defined]  # a CursorResult for a DML statement


async def next_reminder(sessions: async_sessionmaker[AsyncSession]) -> datetime | None:
    async with sessions() as session:
        return (await session.execute(select(func.min(activities.c.remind_at)).where(_armed()))).scalar_one()


class ReminderWorker:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: SalesSettings) -> None:
        self.sessions = sessions
        self.settings = settings

    async def run_once(self) -> float:
        """One round; the seconds to sleep before the next."""
        upcoming = await next_reminder(self.sessions)
        now = datetime.now(UTC)
        if upcoming is not None and upcoming <= now:
            fired = await fire_reminders(self.sessions, now, batch_size=self.settings.reminder_batch_size)
            if fired:
                log.info("reminder worker: %d reminders emitted", fired)
            if fired >= self.settings.reminder_batch_size:
                return 0.0
            upcoming = await next_reminder(self.sessions)
        poll = self.settings.reminder_poll_seconds
        if upcoming is None:
            return poll
        return min(poll, max((upcoming - datetime.now(UTC)).total_seconds(), _MIN_PAUSE))

    async def run(self) -> None:
        while True:
            try:
                pause = await self.run_once()
            except Exception as error:
                if not is_transient(error):
                    raise
                log.warning("reminder round failed, retrying in %ss: %r", _RETRY_AFTER_OUTAGE, error)
                pause = _RETRY_AFTER_OUTAGE
            await asyncio.sleep(pause)


def reminder_background(settings: SalesSettings) -> Background:
    """The ``background=`` of the service app: the reminder worker, if ``settings.run_schedulers``."""

    def workers(database: Database) -> list[Worker]:
        return [ReminderWorker(database.sessions, settings).run] if settings.run_schedulers else []

    return workers
