"""The scheduled full recomputation of the pair statistics, every ``recompute_interval_seconds``.

Runs once shortly after start (a fresh or rebuilt projection gets its window) and then on
the interval; a turn that finds a recomputation younger than half the interval (another
replica's) is skipped, and the advisory lock in ``recompute_all`` makes replicas take turns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text

from relacja_servicekit import Database

from .app.statistics import recompute_all
from .settings import RecommendationsSettings

__all__ = ["scheduled_recomputation"]

log = logging.getLogger(__name__)

STARTUP_DELAY_SECONDS = 5


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
