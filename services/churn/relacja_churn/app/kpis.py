"""Relationship KPIs and the cohort table: load purchases and survey answers, call
domain/kpis.py. Loyalty and customer equity use the active run's parameters (and its
currency) and are left out while no run is active.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.kpis import (
    ActiveModel,
    CohortRow,
    PeriodKpis,
    PeriodName,
    cohort_table,
    period_kpis,
    periods_between,
    range_error,
)
from ..domain.models.bgnbd import BgNbdParams
from ..domain.models.gamma_gamma import GammaGammaParams
from ..domain.models.units import canonical_unit
from ..tables import model_runs, surveys
from .errors import InvalidRange
from .store import load_transactions

__all__ = ["KpiReport", "cohorts", "relationship_kpis"]


@dataclass(frozen=True)
class KpiReport:
    currency: str  # of customer_equity: the active run's, else the service's reporting currency
    run_id: uuid.UUID | None
    periods: list[PeriodKpis]


def _check_range(start: date, end: date, period: PeriodName) -> None:
    error = range_error(start, end, period)
    if error is not None:
        field, message = error
        title = "Invalid range" if field == "from" else "Range too long"
        raise InvalidRange(title, f"`{field}`: {message}.", field, message)


async def relationship_kpis(
    session: AsyncSession, *, start: date, end: date, period: PeriodName, currency: str
) -> KpiReport:
    _check_range(start, end, period)
    run = (await session.execute(select(model_runs).where(model_runs.c.active))).first()
    model = None
    if run is not None:
        model = ActiveModel(
            BgNbdParams(**run.bgnbd),
            GammaGammaParams(**run.gamma_gamma) if run.gamma_gamma else None,
            canonical_unit(run.time_unit),
            run.horizon_months,
            run.monthly_discount_rate,
        )
        currency = run.currency
    periods = periods_between(start, end, period)
    first_day, last_day = periods[0].start, periods[-1].end
    tx = await load_transactions(session, currency=currency, until=last_day)
    answers = (
        await session.execute(
            select(surveys.c.kind, surveys.c.score, surveys.c.answered_at).where(
                surveys.c.answered_at >= first_day, surveys.c.answered_at < date.fromordinal(last_day.toordinal() + 1)
            )
        )
    ).all()
    kinds = np.array([a.kind for a in answers], dtype=object)
    scores = np.array([a.score for a in answers], dtype=np.float64)
    days = np.array([a.answered_at.date().toordinal() for a in answers], dtype=np.int64)
    rows = period_kpis(
        tx.customer, tx.day, tx.amount, kinds, scores, days, start=start, end=end, period=period, model=model
    )
    return KpiReport(currency, run.id if run else None, rows)


async def cohorts(
    session: AsyncSession, *, start: date, end: date, period: PeriodName, currency: str
) -> list[CohortRow]:
    _check_range(start, end, period)
    last_day = periods_between(start, end, period)[-1].end
    tx = await load_transactions(session, currency=currency, until=last_day)
    return cohort_table(tx.customer, tx.day, start=start, end=end, period=period)
