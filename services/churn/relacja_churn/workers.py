"""The churn service's background loop: the model-run worker (started by main.py).

Each pass fails runs left ``running`` by a stopped process, queues the scheduled refit
when it is due, then executes every pending run, one after another. Between passes it
sleeps until a new run is queued (``create_run`` NOTIFYs ``RUNS_CHANNEL``) or
``poll_seconds`` pass (1 s while the LISTEN connection is down): an idle worker makes one
pass every ``poll_seconds``, not two a second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from relacja_messaging.notify import Notifications

from .app.execution import execute_next_run, fail_abandoned_runs
from .app.runs import RUNS_CHANNEL, schedule_refit_if_due

__all__ = ["run_worker"]

_FALLBACK_POLL = 1.0  # seconds between passes while the LISTEN connection is down


def run_worker(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    *,
    poll_seconds: float,
    refit_interval_seconds: float,
) -> Callable[[], Awaitable[None]]:
    """The background worker: fail abandoned runs, queue scheduled refits, execute pending runs."""

    async def work() -> None:
        notifications = Notifications(engine, RUNS_CHANNEL)
        listener = asyncio.create_task(notifications.listen(), name="churn-runs-listen")
        try:
            await _passes(notifications)
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)

    async def _passes(notifications: Notifications) -> None:
        while True:
            await fail_abandoned_runs(engine)
            async with sessions() as session, session.begin():
                await schedule_refit_if_due(session, now=datetime.now(UTC), interval_seconds=refit_interval_seconds)
            while await execute_next_run(engine, sessions) is not None:
                pass  # run every queued model run, one after another
            await notifications.wait(idle_timeout=poll_seconds, fallback_timeout=min(poll_seconds, _FALLBACK_POLL))

    return work
