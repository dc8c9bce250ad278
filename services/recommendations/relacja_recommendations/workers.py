"""Background work: the scheduled full recomputation and the announcer.

    scheduled_recomputation   the pair statistics in full, every ``recompute_interval_seconds``
    announcer                 every ``announce_interval_seconds``: the queued customers'
                              ``recommendations.refreshed`` events (app/refresh.py)

The recomputation runs once shortly after start (a fresh or rebuilt projection gets its window) and then on
the interval; a turn that finds a recomputation younger than half the interval (another
replica's) is skipped, and the advisory lock in ``recompute_all`` makes replicas take turns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text

from relacja_servicekit import Database

from .app.refresh import announce_queued
from .app.statistics import recompute_all
from .settings import RecommendationsSettings

__all__ = ["announcer", "scheduled_recomputation"]

log = logging.getLogger(__name__)

STARTUP_DELAY_SECONDS = 5
ANNOUNCE_BATCH = 200


def scheduled_recomputation(database: Database, settings: RecommendationsSettings) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        if settings.recompute_interval_seconds <= 0:
            return
        await asyncio.sleep(STARTUP_DELAY_SECONDS)
        while True:
            try:
                async with database.sessions() as session, session.begin():
                    age = await session.scalar(
                        text("SELECT extract(epoch FROM now() - computed_at) FROM rec_statistics_state WHERE id = 1")
                    )
                    if age is None or age >= settings.recompute_interval_seconds / 2:
                        await recompute_all(session, settings)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduled recomputation failed; next attempt at the next interval")
            await asyncio.sleep(settings.recompute_interval_seconds)

    return run


def announcer(database: Database, settings: RecommendationsSettings) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        if settings.announce_interval_seconds <= 0:
            return
        while True:
            try:
                async with database.sessions() as session, session.begin():
                    taken = await announce_queued(session, settings, ANNOUNCE_BATCH)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("announcing refreshed suggestions failed; retrying at the next interval")
                taken = 0
            if taken < ANNOUNCE_BATCH:  # after a full batch there is more: go on at once
                await asyncio.sleep(settings.announce_interval_seconds)

    return run
