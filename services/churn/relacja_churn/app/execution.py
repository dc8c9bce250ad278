"""Executing model runs: claim a pending run, compute it, write its scores, record it.

A run is created ``pending`` (app/runs.py: by the API or the scheduled refit) and executed
by the run worker (workers.py) of any service replica (``FOR UPDATE SKIP LOCKED`` picks
each run once). While it runs, the executing process holds a PostgreSQL advisory lock
named after the run on a connection of its own; PostgreSQL releases it when that process
dies. A run seen ``running`` whose lock is free was therefore left by a process that
stopped (a crash, an OOM kill, a redeploy): ``fail_abandoned_runs`` marks it ``failed``
with ``interrupted`` as the reason, so it never stays ``running`` for ever and a new run
can be queued. The CPU-heavy part (``domain.fitting.compute_run``) runs in a worker
thread, so the event loop keeps serving requests. Scores are written with COPY in the
transaction that marks the run ``succeeded`` and, unless it is a validation run, makes it
the one active run and announces the tiers that changed.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Text, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from ..domain.fitting import RunConfig, RunOutcome, compute_run, results_of
from ..domain.models.units import canonical_unit
from ..tables import model_runs, scores
from .store import load_transactions
from .tiers_events import announce_run_tiers

__all__ = ["INTERRUPTED", "execute_next_run", "fail_abandoned_runs"]

log = logging.getLogger(__name__)


async def _copy_scores(session: AsyncSession, run_id: uuid.UUID, outcome: RunOutcome, as_of: date) -> None:
    s, sc = outcome.summary, outcome.scores
    now = datetime.now(UTC)
    first = [date.fromordinal(int(d)) for d in s.first_day]
    last = [date.fromordinal(int(d)) for d in s.last_day]
    records = list(
        zip(
            [run_id] * len(s),
            outcome.customer_ids,
            [as_of] * len(s),
            s.x.astype(int).tolist(),
            s.t_x.tolist(),
            s.T.tolist(),
            s.monetary.tolist(),
            first,
            last,
            sc.p_alive.tolist(),
            sc.expected_purchases.tolist(),
            sc.expected_spend.tolist(),
            sc.clv.tolist(),
            sc.risk_tier.tolist(),
            sc.value_band.tolist(),
            [now] * len(s),
            strict=True,
        )
    )
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None  # an open asyncpg connection
    await raw.copy_records_to_table(
        scores.name,
        records=records,
        columns=[
            "run_id",
            "customer_id",
            "as_of",
            "x",
            "t_x",
            "t_cal",
            "monetary",
            "first_purchase_on",
            "last_purchase_on",
            "p_alive",
            "expected_purchases",
            "expected_spend",
            "clv",
            "risk_tier",
            "value_band",
            "scored_at",
        ],
    )


INTERRUPTED = "interrupted: the process running this model stopped before it finished; create the run again"


def _run_lock(run_id: Any, function: str = "pg_advisory_lock") -> Any:
    """The advisory lock of one run: (a class for model runs, a hash of the run id)."""
    return select(getattr(func, function)(func.hashtext("churn.model_run"), func.hashtext(literal(str(run_id), Text))))


async def _claim_next(connection: AsyncConnection) -> Any | None:
    async with connection.begin():
        next_id = (
            select(model_runs.c.id)
            .where(model_runs.c.status == "pending")
            .order_by(model_runs.c.created_at, model_runs.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        run = (
            await connection.execute(
                update(model_runs)
                .where(model_runs.c.id == next_id)
                .values(status="running", started_at=datetime.now(UTC))
                .returning(*model_runs.c)
            )
        ).first()
        if run is not None:
            # Taken before the commit that shows the run as running: no other process
            # can see it running with its lock free.
            await connection.execute(_run_lock(run.id))
        return run


async def execute_next_run(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> uuid.UUID | None:
    """Execute the oldest pending run, if any; returns its id."""
    async with engine.connect() as holder:  # holds the run's lock until the run is recorded
        run = await _claim_next(holder)
        if run is None:
            return None
        try:
            await _execute(sessions, run)
        finally:
            await holder.execute(_run_lock(run.id, "pg_advisory_unlock"))
            await holder.commit()
    return run.id


async def fail_abandoned_runs(engine: AsyncEngine) -> list[uuid.UUID]:
    """Mark ``failed`` every run left ``running`` by a process that stopped; returns their ids."""
    abandoned: list[uuid.UUID] = []
    async with engine.connect() as connection:
        running = (
            (await connection.execute(select(model_runs.c.id).where(model_runs.c.status == "running"))).scalars().all()
        )
        await connection.commit()
        for run_id in running:
            if not await connection.scalar(_run_lock(run_id, "pg_try_advisory_lock")):
                continue  # its process is alive and holds the lock
            try:
                result = await connection.execute(
                    update(model_runs)
                    .where(model_runs.c.id == run_id, model_runs.c.status == "running")
                    .values(status="failed", error=INTERRUPTED, finished_at=datetime.now(UTC))
                )
                if result.rowcount:
                    abandoned.append(run_id)
                    log.warning("model run %s was left running by a stopped process; marked failed", run_id)
            finally:
                await connection.execute(_run_lock(run_id, "pg_advisory_unlock"))
                await connection.commit()
    return abandoned


async def _execute(sessions: async_sessionmaker[AsyncSession], run: Any) -> None:
    config = RunConfig(
        calibration_end=run.calibration_end,
        time_unit=canonical_unit(run.time_unit),
        horizon_months=run.horizon_months,
        monthly_discount_rate=run.monthly_discount_rate,
        acquired_from=run.acquired_from,
        holdout_end=run.holdout_end,
    )
    started = time.perf_counter()
    try:
        async with sessions() as session:
            tx = await load_transactions(session, currency=run.currency, until=run.holdout_end or run.calibration_end)
        loaded = time.perf_counter()
        outcome = await asyncio.to_thread(compute_run, tx, config)
        computed = time.perf_counter()
        async with sessions() as session, session.begin():
            await _copy_scores(session, run.id, outcome, run.calibration_end)
            written = time.perf_counter()
            timings = {
                "load_seconds": loaded - started,
                **outcome.timings,
                "write_seconds": written - computed,
            }
            values: dict[str, Any] = {**results_of(outcome), "status": "succeeded"}
            if run.activate:
                await session.execute(update(model_runs).where(model_runs.c.active).values(active=False))
                values["active"] = True
                await announce_run_tiers(session, run.id)
            timings["total_seconds"] = time.perf_counter() - started
            await session.execute(
                update(model_runs)
                .where(model_runs.c.id == run.id)
                .values(**values, timings=timings, finished_at=datetime.now(UTC))
            )
    except Exception as exc:  # a failed fit is recorded on the run, not raised into the worker
        log.warning("model run %s failed: %s", run.id, exc)
        async with sessions() as session, session.begin():
            await session.execute(
                update(model_runs)
                .where(model_runs.c.id == run.id)
                .values(status="failed", error=str(exc)[:2000], finished_at=datetime.now(UTC))
            )
