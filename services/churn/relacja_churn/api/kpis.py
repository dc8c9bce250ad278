"""Relationship KPIs: ``GET /api/v1/kpis`` and ``GET /api/v1/kpis/cohorts``.

Definitions are in domain/kpis.py and docs/churn.md. Loyalty and customer equity use
the active model run's parameters and are null while no run is active. A range ending
before it starts, or longer than ``MAX_PERIODS`` periods, is 400 ``invalid-range``.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from relacja_contracts.money import CurrencyCode
from relacja_servicekit import SessionDep
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.types import Day

from ..app import kpis
from ..domain.kpis import MAX_PERIODS
from .problems import app_errors
from .schemas import Money, money

router = APIRouter(prefix="/api/v1/kpis", tags=["kpis"])

FromParam = Annotated[Day, Query(alias="from", description="First day of the range (its period is included)")]
ToParam = Annotated[Day, Query(alias="to", description="Last day of the range (its period is included)")]
PeriodParam = Annotated[Literal["month", "quarter", "year"], Query(description="Calendar period")]

_RANGE = problem_responses(
    {
        400: f"A bad parameter, or an invalid range (invalid-range): `from` after `to`, or more than {MAX_PERIODS} periods"
    }
)


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
    reporting_currency: CurrencyCode = Field(
        description="The currency of the purchases counted and of customer_equity: the active run's, "
        "else the service's (GET /api/v1/churn/settings)"
    )
    currency: CurrencyCode = Field(deprecated=True, description="Deprecated: the same as `reporting_currency`")
    run_id: uuid.UUID | None = Field(description="The active run used for loyalty and equity")
    periods: list[PeriodOut]


class CohortOut(BaseModel):
    cohort_start: date
    cohort_end: date
    customers: int
    retention: list[float] = Field(description="Share of the cohort active in its period + 0, 1, 2, ...")


class CohortsOut(BaseModel):
    period: Literal["month", "quarter", "year"]
    reporting_currency: CurrencyCode = Field(description="The currency of the purchases counted (the service's)")
    cohorts: list[CohortOut]


@router.get(
    "",
    response_model=KpisOut,
    summary="Relationship KPIs per period: satisfaction, retention/attrition, loyalty, repeat purchasing, equity",
    responses=_RANGE,
)
async def get_kpis(
    session: SessionDep, request: Request, start: FromParam, end: ToParam, period: PeriodParam = "month"
) -> KpisOut:
    with app_errors():
        report = await kpis.relationship_kpis(
            session, start=start, end=end, period=period, currency=request.app.state.settings.currency
        )
    currency = report.currency
    return KpisOut(
        period=period,
        reporting_currency=currency,
        currency=currency,
        run_id=report.run_id,
        periods=[
            PeriodOut(
                period_start=r.period.start,
                period_end=r.period.end,
                active_customers=r.active_customers,
                new_customers=r.new_customers,
                customers_to_date=r.customers_to_date,
                retention=r.retention,
                attrition=r.attrition,
                repeat_purchase_rate=r.repeat_purchase_rate,
                loyalty=r.loyalty,
                loyal_customers=r.loyal_customers,
                customer_equity=money(r.customer_equity, currency),
                satisfaction=Satisfaction(
                    csat_responses=r.csat_responses,
                    csat=r.csat,
                    csat_mean=r.csat_mean,
                    nps_responses=r.nps_responses,
                    nps=r.nps,
                ),
            )
            for r in report.periods
        ],
    )


@router.get(
    "/cohorts",
    response_model=CohortsOut,
    summary="Cohort retention table: customers by first-purchase period, share active in each later period",
    responses=_RANGE,
)
async def get_cohorts(
    session: SessionDep, request: Request, start: FromParam, end: ToParam, period: PeriodParam = "month"
) -> CohortsOut:
    currency = request.app.state.settings.currency
    with app_errors():
        rows = await kpis.cohorts(session, start=start, end=end, period=period, currency=currency)
    return CohortsOut(
        period=period,
        reporting_currency=currency,
        cohorts=[
            CohortOut(
                cohort_start=r.cohort.start, cohort_end=r.cohort.end, customers=r.customers, retention=r.retention
            )
            for r in rows
        ],
    )
