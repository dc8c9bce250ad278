"""The scheduled full recomputation: every ``recompute_interval_seconds`` (0 turns it off).

Runs once shortly after start (so a fresh or rebuilt projection gets scores) and then on
the interval. Several replicas may run it; the advisory lock in ``recompute_all`` makes
them take turns, and a turn that finds fresh scores (younger than half the interval) is
skipped.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text

from relacja_servicekit import Database

from .app.scoring import recompute_all
from .settings import SegmentationSettings

__all__ = ["scheduled_recomputation"]

log = logging.getLogger(__name__)

STARTUP_DELAY_SECONDS = 5


def scheduled_recomputation(database: Database, settings: SegmentationSettings):
    async def run() -> None:
        if settings.recompute_interval_seconds <= 0:
            return
        await asyncio.sleep(STARTUP_DELAY_SECONDS)
        while True:
            try:
                async with database.sessions() as session, session.begin():
                    age = await session.scalar(
                        text("SELECT extract(epoch FROM now() - computed_at) FROM scoring_state WHERE id = 1")
                    )
                    if age is None or age >= settings.recompute_interval_seconds / 2:
                        await recompute_all(session, settings)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduled recomputation failed; next attempt at the next interval")
            await asyncio.sleep(settings.recompute_interval_seconds)

    return run
