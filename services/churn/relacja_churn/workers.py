"""The churn service's background loop: the model-run worker (started by main.py).

Each pass fails runs left ``running`` by a stopped process, queues the scheduled refit
when it is due, then executes every pending run, one after another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from .app.execution import execute_next_run, fail_abandoned_runs
from .app.runs import schedule_refit_if_due

__all__ = ["run_worker"]


def run_worker(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    *,
    poll_seconds: float,
    refit_interval_seconds: float,
) -> Callable[[], Awaitable[None]]:
    """The background worker: fail abandoned runs, queue scheduled refits, execute pending runs."""

    async def work() -> None:
        while True:
            await fail_abandoned_runs(engine)
            async with sessions() as session, session.begin():
                await schedule_refit_if_due(session, now=datetime.now(UTC), interval_seconds=refit_interval_seconds)
            while await execute_next_run(engine, sessions) is not None:
                pass  # run every queued model run, one after another
            await asyncio.sleep(poll_seconds)

    return work
