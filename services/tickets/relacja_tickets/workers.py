"""The SLA breach watcher and the auto-closer: background workers of the service.

Breaches are detected when they happen, not on the next read. Each round:

1. ``flag_breaches``: clocks still running, unmet and unflagged whose ``due_at`` has
   passed — read through the partial index ``sla_clocks_watch`` (only such clocks are in
   it, so the query costs the same with 100 or 1,000,000 tickets) — are flagged
   ``breached_at`` and ``SlaBreachedV1`` is written to the outbox in the same transaction.
   Ticket rows are locked ``FOR UPDATE SKIP LOCKED`` first (the order every writer uses:
   ticket, then clocks), and the clock is re-checked under the lock: a ticket being changed
   right now is skipped and looked at again next round, and two replicas never flag the
   same clock — once per target, whatever the number of instances.
2. ``close_resolved``: resolved tickets past the reopen window are closed
   (``TicketClosedV1``), also with ``SKIP LOCKED``.
3. Sleep until the next due time (one index lookup), at most ``sla_poll_seconds``; a new
   ticket with an earlier due time is therefore seen within that poll interval.

A round first asks, in one statement (``due_work``), for the next due time and whether a
resolved ticket is past its window, and runs 1 or 2 only for what is due: an idle round is
that one statement (it was three transactions, every second).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from relacja_contracts.events import SlaBreachedV1, TicketClosedV1
from relacja_messaging.errors import is_transient
from relacja_servicekit.app import Background, Worker
from relacja_servicekit.db import Database

from .events import emit, snapshot
from .settings import TicketsSettings
from .tables import sla_clocks, tickets

__all__ = ["flag_breaches", "close_resolved", "due_work", "next_due", "sla_background", "SlaWatcher"]

log = logging.getLogger(__name__)

_RETRY_AFTER_OUTAGE = 5.0
# A due clock whose ticket is locked by a writer is retried after this, not in a busy loop.
_MIN_PAUSE = 0.05


def _watched(now: datetime) -> ColumnElement[bool]:
    c = sla_clocks.c
    # Must repeat the predicate of the sla_clocks_watch index for the planner to use it.
    return and_(
        c.due_at.is_not(None),
        c.met_at.is_(None),
        c.breached_at.is_(None),
        c.running_since.is_not(None),
        c.due_at <= now,
    )


async def flag_breaches(sessions: async_sessionmaker[AsyncSession], now: datetime, *, batch_size: int = 500) -> int:
    """Flag one batch of clocks due by ``now``; how many were flagged."""
    c, t = sla_clocks.c, tickets.c
    async with sessions() as session, session.begin():
        due_tickets = select(c.ticket_id).where(_watched(now)).order_by(c.due_at).limit(batch_size)
        locked = (
            await session.execute(select(tickets).where(t.id.in_(due_tickets)).with_for_update(skip_locked=True))
        ).all()
        if not locked:
            return 0
        by_id = {row.id: row for row in locked}
        breached = (
            await session.execute(
                update(sla_clocks)
                .where(c.ticket_id.in_(list(by_id)), _watched(now))
                .values(breached_at=now)
                .returning(c.ticket_id, c.target, c.due_at)
            )
        ).all()
        if not breached:
            return 0
        await session.execute(
            update(tickets).where(t.id.in_({row.ticket_id for row in breached})).values(sla_breached=True)
        )
        for clock in breached:
            ticket = by_id[clock.ticket_id]
            await emit(
                session,
                SlaBreachedV1(
                    **snapshot(ticket, now),
                    target=clock.target,
                    due_at=clock.due_at,
                    breached_at=now,
                    policy_id=ticket.policy_id,
                ),
            )
        return len(breached)


async def close_resolved(
    sessions: async_sessionmaker[AsyncSession], now: datetime, reopen_window: timedelta, *, batch_size: int = 500
) -> int:
    """Close one batch of tickets resolved longer ago than the reopen window."""
    t = tickets.c
    async with sessions() as session, session.begin():
        rows = (
            (
                await session.execute(
                    select(tickets.c.id)
                    .where(t.status == "resolved", t.resolved_at < now - reopen_window)
                    .limit(batch_size)
                    .with_for_update(skip_locked=True)
                )
            )
            .scalars()
            .all()
        )
        if not rows:
            return 0
        closed = (
            await session.execute(
                update(tickets)
                .where(t.id.in_(rows))
                .values(status="closed", closed_at=now, updated_at=now, version=t.version + 1)
                .returning(tickets)
            )
        ).all()
        for row in closed:
            await emit(session, TicketClosedV1(**snapshot(row, now)))
        return len(closed)


async def next_due(sessions: async_sessionmaker[AsyncSession]) -> datetime | None:
    """The earliest due time of a watched clock (an index lookup)."""
    c = sla_clocks.c
    async with sessions() as session:
        return (
            await session.execute(
                select(func.min(c.due_at)).where(
                    c.due_at.is_not(None), c.met_at.is_(None), c.breached_at.is_(None), c.running_since.is_not(None)
                )
            )
        ).scalar_one()


async def due_work(
    sessions: async_sessionmaker[AsyncSession], now: datetime, reopen_window: timedelta
) -> tuple[datetime | None, bool]:
    """The earliest due time of a watched clock, and whether a resolved ticket is past the window."""
    c, t = sla_clocks.c, tickets.c
    earliest = (
        select(func.min(c.due_at))
        .where(c.due_at.is_not(None), c.met_at.is_(None), c.breached_at.is_(None), c.running_since.is_not(None))
        .scalar_subquery()
    )
    closable = select(tickets.c.id).where(t.status == "resolved", t.resolved_at < now - reopen_window).exists()
    async with sessions() as session:
        row = (await session.execute(select(earliest, closable))).one()
    return row[0], bool(row[1])


class SlaWatcher:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: TicketsSettings) -> None:
        self.sessions = sessions
        self.settings = settings

    async def run_once(self) -> float:
        """One round; the seconds to sleep before the next."""
        now = datetime.now(UTC)
        upcoming, closable = await due_work(self.sessions, now, self.settings.reopen_window)
        flagged = closed = 0
        if upcoming is not None and upcoming <= now:
            flagged = await flag_breaches(self.sessions, now, batch_size=self.settings.sla_batch_size)
        if closable:
            closed = await close_resolved(
                self.sessions, now, self.settings.reopen_window, batch_size=self.settings.sla_batch_size
            )
        if flagged or closed:
            log.info("SLA watcher: %d breaches flagged, %d resolved tickets closed", flagged, closed)
        if flagged >= self.settings.sla_batch_size or closed >= self.settings.sla_batch_size:
            return 0.0  # more are waiting
        if flagged or closed or (upcoming is not None and upcoming <= now):
            upcoming = await next_due(self.sessions)
        poll = self.settings.sla_poll_seconds
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
                log.warning("SLA watcher round failed, retrying in %ss: %r", _RETRY_AFTER_OUTAGE, error)
                pause = _RETRY_AFTER_OUTAGE
            await asyncio.sleep(pause)


def sla_background(settings: TicketsSettings) -> Background:
    """The ``background=`` of the service app: the watcher, if ``settings.run_schedulers``."""

    def workers(database: Database) -> list[Worker]:
        return [SlaWatcher(database.sessions, settings).run] if settings.run_schedulers else []

    return workers
