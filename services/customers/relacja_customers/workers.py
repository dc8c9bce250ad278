"""The daily announcer of upcoming important dates.

At start and then every day at ``important_dates_run_at`` (UTC) it emits
``ImportantDateUpcomingV1`` for each important date observed within the next
``important_dates_lead_days`` days (today included), so that other services can send
wishes or coupons in time.

Exactly once per (date, occurrence year): each announcement claims the row
``important_date_announcements(important_date_id, occurrence_year)`` with
``ON CONFLICT DO NOTHING`` and emits only if the claim is new, in the same transaction
as the event. A second run, a restart or another replica finds the claim and emits
nothing; a concurrent replica waits on the first one's customer-row locks, then finds it.

Runs in batches of ``batch_size`` dates, one transaction each, walking the window in
occurrence order with the same keyset as ``GET /api/v1/customers/important-dates``.
Tests call :func:`announce_upcoming` directly with the ``today`` they need.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from relacja_contracts.events import ImportantDateUpcomingV1
from relacja_messaging.errors import is_transient
from relacja_servicekit.app import Background, Worker
from relacja_servicekit.db import Database

from .app.important_dates import window_query
from .app.related_rows import lock_customers
from .domain.important_dates import observed_on
from .events import emit
from .settings import CustomersSettings
from .tables import important_date_announcements

__all__ = ["announce_upcoming", "important_dates_background", "seconds_until_next_run"]

log = logging.getLogger(__name__)

_RETRY_AFTER_OUTAGE = 30.0


async def announce_upcoming(
    sessions: async_sessionmaker[AsyncSession], *, today: date, lead_days: int, batch_size: int = 500
) -> int:
    """Announce every date observed in ``[today, today + lead_days]`` not announced before; how many were."""
    first, last = today, today + timedelta(days=lead_days)
    announced = 0
    after = None
    while True:
        async with sessions() as session, session.begin():
            rows = (await session.execute(window_query(first, last, after=after).limit(batch_size))).all()
            if not rows:
                return announced
            announced += await _announce_batch(session, rows, today)
        last_row = rows[-1]
        after = [last_row.occurrence_year, last_row.month, last_row.day, last_row.id]
        if len(rows) < batch_size:
            return announced


async def _announce_batch(session: AsyncSession, rows: list, today: date) -> int:
    existing = await lock_customers(session, (row.customer_id for row in rows))
    rows = [row for row in rows if row.customer_id in existing]
    if not rows:
        return 0
    occurrences = {(row.id, row.occurrence_year): observed_on(row.month, row.day, row.occurrence_year) for row in rows}
    claim = (
        pg_insert(important_date_announcements)
        .values(
            [
                {"important_date_id": date_id, "occurrence_year": year, "occurs_on": occurs_on}
                for (date_id, year), occurs_on in occurrences.items()
            ]
        )
        .on_conflict_do_nothing(index_elements=["important_date_id", "occurrence_year"])
        .returning(important_date_announcements.c.important_date_id, important_date_announcements.c.occurrence_year)
    )
    claimed = {tuple(row) for row in await session.execute(claim)}
    for row in rows:
        occurs_on = occurrences[(row.id, row.occurrence_year)]
        if (row.id, row.occurrence_year) in claimed:
            await emit(
                session,
                ImportantDateUpcomingV1(
                    customer_id=row.customer_id,
                    important_date_id=row.id,
                    kind=row.kind,
                    label=row.label,
                    occurs_on=occurs_on,
                    days_ahead=(occurs_on - today).days,
                ),
            )
    return len(claimed)


def seconds_until_next_run(now: datetime, run_at: time) -> float:
    """Seconds from ``now`` to the next ``run_at`` (a time of day in ``now``'s time zone); never 0."""
    target = datetime.combine(now.date(), run_at, tzinfo=now.tzinfo)
    if target <= now:
        target += timedelta(days=1)
    return (target - now).total_seconds()


class ImportantDateAnnouncer:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: CustomersSettings) -> None:
        self.sessions = sessions
        self.lead_days = settings.important_dates_lead_days
        self.run_at = settings.important_dates_run_at

    async def run(self) -> None:
        while True:
            try:
                today = datetime.now(UTC).date()
                announced = await announce_upcoming(self.sessions, today=today, lead_days=self.lead_days)
                log.info("announced %d upcoming important dates (lead %d days)", announced, self.lead_days)
            except Exception as error:
                if not is_transient(error):
                    raise
                log.warning("important-date run failed, retrying in %ss: %r", _RETRY_AFTER_OUTAGE, error)
                await asyncio.sleep(_RETRY_AFTER_OUTAGE)
                continue
            await asyncio.sleep(seconds_until_next_run(datetime.now(UTC), self.run_at))


def important_dates_background(settings: CustomersSettings) -> Background:
    """The ``background=`` of the service app: the announcer, if ``settings.run_schedulers``."""

    def workers(database: Database) -> list[Worker]:
        return [ImportantDateAnnouncer(database.sessions, settings).run] if settings.run_schedulers else []

    return workers
