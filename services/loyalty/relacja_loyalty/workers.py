"""The loyalty worker (started by main.py): lots past their expiry expire, tiers are
evaluated daily. Every ``interval_seconds`` it drains both queues in batches (one
transaction per batch, see ``app/housekeeping.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .app.housekeeping import evaluate_tiers, expire_due

__all__ = ["housekeeping_worker", "run_housekeeping"]


async def run_housekeeping(sessions: async_sessionmaker[AsyncSession], now: datetime | None = None) -> None:
    """One pass: every due expiry and every tier not evaluated today."""
    for step in (expire_due, evaluate_tiers):
        while True:
            async with sessions() as session, session.begin():
                if await step(session, now or datetime.now(UTC)) == 0:
                    break


def housekeeping_worker(
    sessions: async_sessionmaker[AsyncSession], *, interval_seconds: float
) -> Callable[[], Awaitable[None]]:
    async def work() -> None:
        while True:
            await run_housekeeping(sessions)
            await asyncio.sleep(interval_seconds)

    return work
