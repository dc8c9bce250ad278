"""The reminder worker: ``ActivityDueV1`` within seconds of each reminder time, exactly once.

Each round:

1. ``fire_reminders``: open activities whose ``remind_at`` has passed and whose reminder was
   not emitted — read through the partial index ``ix_activities_reminder`` (only armed
   reminders are in it, so the cost does not grow with the number of activities) — are
   locked ``FOR UPDATE SKIP LOCKED``, stamped ``reminded_at`` and their events written to
   the outbox in the same transaction (one COPY per batch). Two workers (two replicas)
   never take the same row, and a row stamped in a committed transaction is out of the
   index: each reminder is emitted once. A crash before the commit rolls both back and the
   next round emits it.
2. Sleep until the next reminder (one index lookup), at most ``reminder_poll_seconds``.

100,000 reminders in one minute are 50 batches of 2,000: see docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from relacja_contracts.events import ActivityDueV1
from relacja_messaging.errors import is_transient
from relacja_servicekit.app import Background, Worker
from relacja_servicekit.db import Database

from .events import emit_many
from .settings import SalesSettings
from .tables import activities

__all__ = ["fire_reminders", "next_reminder", "ReminderWorker", "reminder_background"]

log = logging.getLogger(__name__)

_RETRY_AFTER_OUTAGE = 5.0
_MIN_PAUSE = 0.05


def _armed() -> ColumnElement[bool]:
    c = activities.c
    # Repeats the predicate of ix_activities_reminder, so the planner uses it.
    return and_(c.reminded_at.is_(None), c.status == "open", c.remind_at.is_not(None))


async def fire_reminders(sessions: async_sessionmaker[AsyncSession], now: datetime, *, batch_size: int = 2_000) -> int:
    """Emit one batch of reminders due by ``now``; how many were emitted."""
    c = activities.c
    async with sessions() as session, session.begin():
        due = (
            select(c.id)
            .where(_armed(), c.remind_at <= now)
            .order_by(c.remind_at)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
        fired = (
            await session.execute(
                update(activities).where(c.id.in_(due.scalar_subquery())).values(reminded_at=now).returning(activities)
            )
        ).all()
        if not fired:
            return 0
        await emit_many(
            session,
            [
                ActivityDueV1(
                    customer_id=row.customer_id,
                    activity_id=row.id,
                    kind=row.kind,
                    assignee_id=row.assignee_id,
                    team=row.team,
                    opportunity_id=row.opportunity_id,
                    due_at=row.due_at,
                    remind_at=row.remind_at,
                    occurred_at=now,
                )
                for row in fired
            ],
        )
        return len(fired)


async def next_reminder(sessions: async_sessionmaker[AsyncSession]) -> datetime | None:
    async with sessions() as session:
        return (await session.execute(select(func.min(activities.c.remind_at)).where(_armed()))).scalar_one()


class ReminderWorker:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: SalesSettings) -> None:
        self.sessions = sessions
        self.settings = settings

    async def run_once(self) -> float:
        """One round; the seconds to sleep before the next."""
        fired = await fire_reminders(self.sessions, datetime.now(UTC), batch_size=self.settings.reminder_batch_size)
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
