"""A model run left ``running`` by a process that stopped is marked failed, and a run
whose process is alive is left alone.

A live run is simulated by holding the run's advisory lock on a connection of the test,
as the executing process does; a stopped process is simulated by releasing it (what
PostgreSQL does when a process's connection dies)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import asyncpg

from relacja_churn.app.execution import INTERRUPTED

from ...support import eventually

LOCK = "SELECT {}(hashtext('churn.model_run'), hashtext($1::text))"


async def insert_running_run(db: asyncpg.Connection, run_id: uuid.UUID) -> uuid.UUID:
    await db.execute(
        "INSERT INTO churn_model_runs (id, status, trigger, activate, calibration_end, time_unit, horizon_months, "
        "monthly_discount_rate, currency, created_at, started_at) "
        "VALUES ($1, 'running', 'api', false, $2, 'weeks', 12, 0.01, 'PLN', $3, $3)",
        run_id,
        date(1990, 1, 1),
        datetime(2000, 1, 1, tzinfo=UTC),  # old: never the newest run
    )
    return run_id


async def test_a_run_whose_process_stopped_is_marked_failed_and_a_live_one_is_not(api, db, stack) -> None:
    live_process = await asyncpg.connect(stack.database_url("churn").replace("+asyncpg", ""))
    try:
        run_id = uuid.uuid4()
        # Locked before it exists, as the executing process does before its claim commits.
        await live_process.execute(LOCK.format("pg_advisory_lock"), str(run_id))
        await insert_running_run(db, run_id)
        abandoned = await insert_running_run(db, uuid.uuid4())

        async def failed(run: uuid.UUID):
            body = (await api.get(f"/api/v1/churn/models/{run}")).json()
            return body if body["status"] == "failed" else None

        # The run worker sleeps on NOTIFY and looks for interrupted runs on its slow poll
        # (``run_poll_seconds``, 30 s): two polls and a margin.
        card = await eventually(lambda: failed(abandoned), timeout=75)
        assert card["error"] == INTERRUPTED and card["finished_at"] is not None
        # The worker has passed over the live run at least once by now (it checks every
        # run in one pass): it must still be running.
        assert (await api.get(f"/api/v1/churn/models/{run_id}")).json()["status"] == "running"

        await live_process.close()  # the process dies: PostgreSQL releases its lock
        card = await eventually(lambda: failed(run_id), timeout=75)
        assert card["error"] == INTERRUPTED
    finally:
        if not live_process.is_closed():
            await live_process.close()
