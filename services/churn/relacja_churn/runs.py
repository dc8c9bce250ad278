"""Model runs: fit both models on the projection, store the scores, activate the run.

A run is created ``pending`` (by the API or the scheduled refit) and executed by the
run worker of any service replica (``FOR UPDATE SKIP LOCKED`` picks each run once).
While it runs, the executing process holds a PostgreSQL advisory lock named after the
run on a connection of its own; PostgreSQL releases it when that process dies. A run
seen ``running`` whose lock is free was therefore left by a process that stopped (a
crash, an OOM kill, a redeploy): the worker marks it ``failed`` with ``interrupted`` as
the reason, so it never stays ``running`` for ever and a new run can be queued. The
CPU-heavy part (summaries, fits, scores) runs in a worker thread, so the event loop
keeps serving requests. Scores are written with COPY in the transaction that marks the
run ``succeeded`` and, unless it is a validation run, makes it the one active run and
announces the tiers that changed.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from sqlalchemy import Text, func, literal, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from .models.card import FittedModels, Scores, fit_models, holdout_report, score
from .models.summary import Summary, summarise
from .models.units import DAYS_PER_UNIT
from .store import Transactions, load_transactions
from .tables import model_runs, scores
from .tiers_events import announce_run_tiers

__all__ = ["RunConfig", "RunOutcome", "compute_run", "execute_next_run", "fail_abandoned_runs", "run_worker", "INTERRUPTED"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunConfig:
    calibration_end: date
    time_unit: str
    horizon_months: int
    monthly_discount_rate: float
    acquired_from: date | None = None
    holdout_end: date | None = None


@dataclass(frozen=True)
class RunOutcome:
    customer_ids: list[uuid.UUID]  # one per summary row
    summary: Summary
    fitted: FittedModels
    scores: Scores
    band_cutoffs: tuple[float, float, float]
    holdout: dict[str, Any] | None
    timings: dict[str, float]


def compute_run(tx: Transactions, config: RunConfig) -> RunOutcome:
    """Summaries, fits, scores and the holdout report: pure computation on arrays."""
    started = time.perf_counter()
    end_day = config.calibration_end.toordinal()
    summary = summarise(tx.customer, tx.day, tx.amount, calibration_end_day=end_day, unit=config.time_unit)
    if config.acquired_from is not None:
        keep = summary.first_day >= config.acquired_from.toordinal()
        summary = Summary(*(getattr(summary, f)[keep] for f in Summary.__dataclass_fields__))
    if len(summary) == 0:
        raise ValueError("no customer has a purchase in the calibration window")
    summarised = time.perf_counter()
    fitted = fit_models(summary)
    fitted_at = time.perf_counter()
    gg = fitted.gamma_gamma.params if fitted.gamma_gamma else None
    result, cutoffs = score(
        fitted.bgnbd.params, gg, summary.x, summary.t_x, summary.T, summary.monetary,
        unit=config.time_unit, horizon_months=config.horizon_months,
        monthly_discount_rate=config.monthly_discount_rate,
    )
    scored = time.perf_counter()
    holdout = None
    if config.holdout_end is not None:
        in_holdout = (tx.day > end_day) & (tx.day <= config.holdout_end.toordinal())
        # Same-day purchases are one transaction in the holdout too.
        pairs = np.unique(np.column_stack([tx.customer[in_holdout], tx.day[in_holdout]]), axis=0)
        per_customer = np.bincount(pairs[:, 0], minlength=len(tx.ids))
        actual = per_customer[summary.customer].astype(np.float64)
        length = (config.holdout_end.toordinal() - end_day) / DAYS_PER_UNIT[config.time_unit]
        groups, predicted_total, actual_total = holdout_report(fitted.bgnbd.params, summary, actual, length)
        holdout = {
            "holdout_end": config.holdout_end.isoformat(),
            "length": length,
            "groups": [g.__dict__ for g in groups],
            "total": {"predicted": predicted_total, "actual": actual_total},
        }
    timings = {
        "summarise_seconds": summarised - started,
        **fitted.timings,
        "fit_seconds": fitted_at - summarised,
        "score_seconds": scored - fitted_at,
    }
    return RunOutcome([tx.ids[i] for i in summary.customer], summary, fitted, result, cutoffs, holdout, timings)


def results_of(outcome: RunOutcome, config: RunConfig) -> dict[str, Any]:
    bg = outcome.fitted.bgnbd
    gg = outcome.fitted.gamma_gamma
    s = outcome.summary
    return {
        "bgnbd": {"r": bg.params.r, "alpha": bg.params.alpha, "a": bg.params.a, "b": bg.params.b},
        "gamma_gamma": {"p": gg.params.p, "q": gg.params.q, "gamma": gg.params.gamma} if gg else None,
        "fit": {
            "log_likelihood": bg.log_likelihood,
            "gamma_gamma_log_likelihood": gg.log_likelihood if gg else None,
            "n_customers": len(s),
            "n_repeat_buyers": int((s.x > 0).sum()),
            "n_transactions": int(s.x.sum() + len(s)),
            "n_distinct_rows": bg.n_groups,
            "converged": bg.converged and (gg.converged if gg else True),
            "first_purchase_from": date.fromordinal(int(s.first_day.min())).isoformat(),
            "first_purchase_to": date.fromordinal(int(s.first_day.max())).isoformat(),
            "last_purchase_on": date.fromordinal(int(s.last_day.max())).isoformat(),
            "total_clv": float(outcome.scores.clv.sum()),
        },
        "holdout": outcome.holdout,
        "band_cutoffs": list(outcome.band_cutoffs),
    }


async def _copy_scores(session: AsyncSession, run_id: uuid.UUID, outcome: RunOutcome, as_of: date) -> None:
    s, sc = outcome.summary, outcome.scores
    now = datetime.now(UTC)
    first = [date.fromordinal(int(d)) for d in s.first_day]
    last = [date.fromordinal(int(d)) for d in s.last_day]
    records = list(zip(
        [run_id] * len(s), outcome.customer_ids, [as_of] * len(s),
        s.x.astype(int).tolist(), s.t_x.tolist(), s.T.tolist(), s.monetary.tolist(), first, last,
        sc.p_alive.tolist(), sc.expected_purchases.tolist(), sc.expected_spend.tolist(), sc.clv.tolist(),
        sc.risk_tier.tolist(), sc.value_band.tolist(), [now] * len(s), strict=True,
    ))
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    await raw.copy_records_to_table(
        scores.name,
        records=records,
        columns=[
            "run_id", "customer_id", "as_of", "x", "t_x", "t_cal", "monetary", "first_purchase_on",
            "last_purchase_on", "p_alive", "expected_purchases", "expected_spend", "clv", "risk_tier",
            "value_band", "scored_at",
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
        running = (await connection.execute(select(model_runs.c.id).where(model_runs.c.status == "running"))).scalars().all()
        await connection.commit()
        for run_id in running:
            if not await connection.scalar(_run_lock(run_id, "pg_try_advisory_lock")):
                continue  # its process is alive and holds the lock
            try:
                result = await connection.execute(
                    update(model_runs).where(model_runs.c.id == run_id, model_runs.c.status == "running")
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
        calibration_end=run.calibration_end, time_unit=run.time_unit, horizon_months=run.horizon_months,
        monthly_discount_rate=run.monthly_discount_rate, acquired_from=run.acquired_from, holdout_end=run.holdout_end,
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
                "load_seconds": loaded - started, **outcome.timings, "write_seconds": written - computed,
            }
            values: dict[str, Any] = {**results_of(outcome, config), "status": "succeeded"}
            if run.activate:
                await session.execute(update(model_runs).where(model_runs.c.active).values(active=False))
                values["active"] = True
                await announce_run_tiers(session, run.id)
            timings["total_seconds"] = time.perf_counter() - started
            await session.execute(
                update(model_runs).where(model_runs.c.id == run.id)
                .values(**values, timings=timings, finished_at=datetime.now(UTC))
            )
    except Exception as exc:  # a failed fit is recorded on the run, not raised into the worker
        log.warning("model run %s failed: %s", run.id, exc)
        async with sessions() as session, session.begin():
            await session.execute(
                update(model_runs).where(model_runs.c.id == run.id)
                .values(status="failed", error=str(exc)[:2000], finished_at=datetime.now(UTC))
            )


async def schedule_refit_if_due(session: AsyncSession, *, now: datetime, interval_seconds: float) -> uuid.UUID | None:
    """Queue a refit with the active run's settings and today's data when the newest run
    is older than the interval. The first model is always created deliberately (by the
    API); the schedule only keeps an active model current."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('churn.refit'))"))
    active = (await session.execute(select(model_runs).where(model_runs.c.active))).first()
    if active is None:
        return None
    newest = await session.scalar(select(model_runs.c.created_at).order_by(model_runs.c.created_at.desc()).limit(1))
    busy = await session.scalar(select(model_runs.c.id).where(model_runs.c.status.in_(("pending", "running"))).limit(1))
    if busy is not None or not refit_due(newest, now, interval_seconds):
        return None
    run_id = uuid.uuid4()
    await session.execute(
        model_runs.insert().values(
            id=run_id, status="pending", trigger="schedule", activate=True, calibration_end=now.date(),
            acquired_from=active.acquired_from, holdout_end=None, time_unit=active.time_unit,
            horizon_months=active.horizon_months, monthly_discount_rate=active.monthly_discount_rate,
            currency=active.currency, created_at=now,
        )
    )
    return run_id


def refit_due(newest_run_at: datetime | None, now: datetime, interval_seconds: float) -> bool:
    return interval_seconds > 0 and newest_run_at is not None and (now - newest_run_at).total_seconds() >= interval_seconds


def run_worker(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], *, poll_seconds: float, refit_interval_seconds: float
):
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
