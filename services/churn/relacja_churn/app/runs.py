"""The model-run resource: create, read, list, activate, and the scheduled refit.

A run is created ``pending`` here (``create_run`` for the API, ``schedule_refit_if_due``
for the schedule) and executed by the run worker (app/execution.py); both NOTIFY
``RUNS_CHANNEL`` in their transaction, which wakes the worker (workers.py) of every
replica at commit, so the worker need not poll in a short loop. Parameters a client
leaves out take the service's defaults (``ChurnSettings.default_*``, shown by
``GET /api/v1/churn/settings``); the run stores the values it used, in the singular unit
names.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_messaging.notify import notify
from relacja_servicekit.pagination import Page, paginate

from ..domain.models.units import canonical_unit
from ..domain.runs import check_action
from ..settings import ChurnSettings
from ..tables import model_runs
from .errors import NoActiveRun, RunNotFound
from .tiers_events import announce_run_tiers

__all__ = [
    "RUNS_CHANNEL",
    "NewRun",
    "activate_run",
    "active_run",
    "create_run",
    "get_run",
    "list_runs",
    "refit_due",
    "schedule_refit_if_due",
]

T = TypeVar("T")

RUNS_CHANNEL = "relacja_churn_runs"


@dataclass(frozen=True)
class NewRun:
    """A client's run request; ``None`` takes the service default."""

    calibration_end: date
    time_unit: str | None = None
    horizon_months: int | None = None
    monthly_discount_rate: float | None = None
    acquired_from: date | None = None
    holdout_end: date | None = None
    activate: bool | None = None


async def create_run(session: AsyncSession, command: NewRun, settings: ChurnSettings) -> Any:
    """Queue a run (``pending``) in the caller's transaction; returns its row."""
    await notify(session, RUNS_CHANNEL)
    return (
        await session.execute(
            model_runs.insert()
            .values(
                id=uuid.uuid4(),
                status="pending",
                trigger="api",
                # A validation run (with a holdout) is not activated unless asked to.
                activate=command.activate if command.activate is not None else command.holdout_end is None,
                calibration_end=command.calibration_end,
                acquired_from=command.acquired_from,
                holdout_end=command.holdout_end,
                time_unit=canonical_unit(command.time_unit or settings.default_time_unit),
                horizon_months=command.horizon_months or settings.default_horizon_months,
                monthly_discount_rate=(
                    command.monthly_discount_rate
                    if command.monthly_discount_rate is not None
                    else settings.default_monthly_discount_rate
                ),
                currency=settings.currency,
                created_at=datetime.now(UTC),
            )
            .returning(*model_runs.c)
        )
    ).one()


async def get_run(session: AsyncSession, run_id: uuid.UUID) -> Any:
    row = (await session.execute(select(model_runs).where(model_runs.c.id == run_id))).first()
    if row is None:
        raise RunNotFound(run_id)
    return row


async def active_run(session: AsyncSession) -> Any:
    row = (await session.execute(select(model_runs).where(model_runs.c.active))).first()
    if row is None:
        raise NoActiveRun()
    return row


async def list_runs(session: AsyncSession, *, limit: int, cursor: str | None, to_item: Callable[[Any], T]) -> Page[T]:
    """Runs, newest first."""
    return await paginate(
        session,
        select(model_runs),
        keys=[model_runs.c.created_at, model_runs.c.id],
        limit=limit,
        cursor=cursor,
        descending=True,
        to_item=to_item,
    )


async def activate_run(session: AsyncSession, run_id: uuid.UUID) -> Any:
    """Make a succeeded run the active one and announce the tiers it changes; activating
    the active run again changes nothing. Other statuses: ``IllegalTransition``."""
    row = await get_run(session, run_id)
    check_action(row.status, "activate")
    if not row.active:
        await session.execute(update(model_runs).where(model_runs.c.active).values(active=False))
        await session.execute(update(model_runs).where(model_runs.c.id == run_id).values(active=True))
        await announce_run_tiers(session, run_id)
        row = await get_run(session, run_id)
    return row


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
    await notify(session, RUNS_CHANNEL)
    await session.execute(
        model_runs.insert().values(
            id=run_id,
            status="pending",
            trigger="schedule",
            activate=True,
            calibration_end=now.date(),
            acquired_from=active.acquired_from,
            holdout_end=None,
            time_unit=canonical_unit(active.time_unit),
            horizon_months=active.horizon_months,
            monthly_discount_rate=active.monthly_discount_rate,
            currency=active.currency,
            created_at=now,
        )
    )
    return run_id


def refit_due(newest_run_at: datetime | None, now: datetime, interval_seconds: float) -> bool:
    return (
        interval_seconds > 0 and newest_run_at is not None and (now - newest_run_at).total_seconds() >= interval_seconds
    )
