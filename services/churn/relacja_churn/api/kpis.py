"""Relationship KPIs: ``GET /api/v1/kpis`` and ``GET /api/v1/kpis/cohorts``.

Definitions are in domain/kpis.py and docs/churn.md. Loyalty and customer equity use
the active model run's parameters and are null while no run is active.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from relacja_servicekit import Problem, SessionDep

from ..domain.kpis import ActiveModel, PeriodName, cohort_table, period_kpis, periods_between
from ..models.bgnbd import BgNbdParams
from ..models.gamma_gamma import GammaGammaParams
from ..store import load_transactions
from ..tables import model_runs, surveys
from .schemas import PROBLEM, Money, money

router = APIRouter(prefix="/api/v1/kpis", tags=["kpis"])

MAX_PERIODS = 120

FromParam = Annotated[date, Query(alias="from", description="First day of the range (its period is included)")]
ToParam = Annotated[date, Query(alias="to", description="Last day of the range (its period is included)")]
PeriodParam = Annotated[Literal["month", "quarter", "year"], Query(description="Calendar period")]


class Satisfaction(BaseModel):
    csat_responses: int
    csat: float | None = Field(description="Share of CSAT answers scoring 4 or 5 (0–1)")
    csat_mean: float | None = Field(description="Mean CSAT score (1–5)")
    nps_responses: int
    nps: float | None = Field(description="% promoters (9–10) − % detractors (0–6), −100 to 100")


class PeriodOut(BaseModel):
    period_start: date
    period_end: date
    active_customers: int
    new_customers: int
    customers_to_date: int
    retention: float | None = Field(description="Share of the previous period's active customers active again")
    attrition: float | None = Field(description="1 − retention")
    repeat_purchase_rate: float | None
    loyalty: float | None = Field(description="Share of customers to date who bought again and have P(alive) ≥ 0.5")
    loyal_customers: int | None
    customer_equity: Money | None = Field(description="Sum of CLV measured at the period end (active run)")
    satisfaction: Satisfaction


class KpisOut(BaseModel):
    period: Literal["month", "quarter", "year"]
    currency: str
    run_id: uuid.UUID | None = Field(description="The active run used for loyalty and equity")
    periods: list[PeriodOut]


class CohortOut(BaseModel):
    cohort_start: date
    cohort_end: date
    customers: int
    retention: list[float] = Field(description="Share of the cohort active in its period + 0, 1, 2, ...")


class CohortsOut(BaseModel):
    period: Literal["month", "quarter", "year"]
    cohorts: list[CohortOut]


def _check_range(start: date, end: date, period: PeriodName) -> None:
    if start > end:
        raise Problem(400, "Invalid range", "`from` must be on or before `to`.", type_="invalid-range",
                      errors=[{"field": "from", "message": "after `to`"}])
    if len(periods_between(start, end, period)) > MAX_PERIODS:
        raise Problem(400, "Range too long", f"At most {MAX_PERIODS} periods per request.", type_="invalid-range",
                      errors=[{"field": "to", "message": f"more than {MAX_PERIODS} {period}s after `from`"}])


@router.get(
    "",
    response_model=KpisOut,
    summary="Relationship KPIs per period: satisfaction, retention/attrition, loyalty, repeat purchasing, equity",
    responses={400: {"description": "Invalid range", **PROBLEM}},
)
async def get_kpis(
    session: SessionDep, request: Request, start: FromParam, end: ToParam, period: PeriodParam = "month"
) -> KpisOut:
    _check_range(start, end, period)
    currency = request.app.state.settings.currency
    run = (await session.execute(select(model_runs).where(model_runs.c.active))).first()
    model = None
    if run is not None:
        model = ActiveModel(
            BgNbdParams(**run.bgnbd), GammaGammaParams(**run.gamma_gamma) if run.gamma_gamma else None,
            run.time_unit, run.horizon_months, run.monthly_discount_rate,
        )
        currency = run.currency
    last_day = periods_between(start, end, period)[-1].end
    tx = await load_transactions(session, currency=currency, until=last_day)
    first_day = periods_between(start, end, period)[0].start
    answers = (
        await session.execute(
            select(surveys.c.kind, surveys.c.score, surveys.c.answered_at)
            .where(surveys.c.answered_at >= first_day, surveys.c.answered_at < date.fromordinal(last_day.toordinal() + 1))
        )
    ).all()
    kinds = np.array([a.kind for a in answers], dtype=object)
    scores = np.array([a.score for a in answers], dtype=np.float64)
    days = np.array([a.answered_at.date().toordinal() for a in answers], dtype=np.int64)
    rows = period_kpis(
        tx.customer, tx.day, tx.amount, kinds, scores, days, start=start, end=end, period=period, model=model
    )
    return KpisOut(
        period=period,
        currency=currency,
        run_id=run.id if run else None,
        periods=[
            PeriodOut(
                period_start=r.period.start, period_end=r.period.end, active_customers=r.active_customers,
                new_customers=r.new_customers, customers_to_date=r.customers_to_date, retention=r.retention,
                attrition=r.attrition, repeat_purchase_rate=r.repeat_purchase_rate, loyalty=r.loyalty,
                loyal_customers=r.loyal_customers, customer_equity=money(r.customer_equity, currency),
                satisfaction=Satisfaction(
                    csat_responses=r.csat_responses, csat=r.csat, csat_mean=r.csat_mean,
                    nps_responses=r.nps_responses, nps=r.nps,
                ),
            )
            for r in rows
        ],
    )


@router.get(
    "/cohorts",
    response_model=CohortsOut,
    summary="Cohort retention table: customers by first-purchase period, share active in each later period",
    responses={400: {"description": "Invalid range", **PROBLEM}},
)
async def get_cohorts(
    session: SessionDep, request: Request, start: FromParam, end: ToParam, period: PeriodParam = "month"
) -> CohortsOut:
    _check_range(start, end, period)
    currency = request.app.state.settings.currency
    last_day = periods_between(start, end, period)[-1].end
    tx = await load_transactions(session, currency=currency, until=last_day)
    rows = cohort_table(tx.customer, tx.day, start=start, end=end, period=period)
    return CohortsOut(
        period=period,
        cohorts=[CohortOut(cohort_start=r.cohort.start, cohort_end=r.cohort.end, customers=r.customers, retention=r.retention) for r in rows],
    )
