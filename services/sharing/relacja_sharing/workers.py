"""The sharing service's housekeeping (started by main.py): feed records and disclosures past
their retention (``feed_retention_days``, ``disclosure_retention_days``) are purged by age."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .app.disclosures import purge_disclosures, purge_feed

__all__ = ["retention_worker"]


def retention_worker(
    sessions: async_sessionmaker[AsyncSession],
    *,
    feed_retention: timedelta,
    disclosure_retention: timedelta,
    interval_seconds: float,
) -> Callable[[], Awaitable[None]]:
    async def work() -> None:
        while True:
            async with sessions() as session, session.begin():
                await purge_feed(session, feed_retention)
                await purge_disclosures(session, disclosure_retention)
            await asyncio.sleep(interval_seconds)

    return work
