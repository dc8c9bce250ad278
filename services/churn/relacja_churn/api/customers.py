"""Customer scores and customer equity: ``/api/v1/churn/customers``, ``/api/v1/churn/equity``.

Scores are read from the active run unless ``run_id`` names another run: no run named
and none active is 404 ``no-active-run``, a named run that does not exist 404
``not-found``, one that has not succeeded 409 ``run-not-succeeded``. Money is in the
run's currency, named by ``reporting_currency``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from relacja_contracts.money import CurrencyCode
from relacja_servicekit import SessionDep
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page

from ..app import scores
from ..domain.models.units import canonical_unit
from .problems import NO_ACTIVE_RUN, RUN_NOT_SUCCEEDED, app_errors
from .schemas import CustomerScoreOut, HistorySummary, Money, RiskTierName, ValueBandName, money

router = APIRouter(prefix="/api/v1/churn", tags=["churn scores"])

RunIdParam = Annotated[uuid.UUID | None, Query(description="A run's scores instead of the active run's")]

_RUN_PROBLEMS = problem_responses({404: NO_ACTIVE_RUN}, {409: RUN_NOT_SUCCEEDED})


def _score_of(run: Any) -> Callable[[Any], CustomerScoreOut]:
    def build(row: Any) -> CustomerScoreOut:
        return CustomerScoreOut(
            customer_id=row.customer_id,
            run_id=run.id,
            as_of=row.as_of,
            probability_alive=row.p_alive,
            risk_tier=row.risk_tier,
            value_band=row.value_band,
            horizon_months=run.horizon_months,
            reporting_currency=run.currency,
            expected_purchases=row.expected_purchases,
            expected_spend=money(row.expected_spend, run.currency),
            clv=money(row.clv, run.currency),
            history=HistorySummary(
                time_unit=canonical_unit(run.time_unit),
                x=row.x,
                t_x=row.t_x,
                T=row.t_cal,
                first_purchase_on=row.first_purchase_on,
                last_purchase_on=row.last_purchase_on,
                mean_repeat_spend=money(row.monetary, run.currency),
            ),
            scored_at=row.scored_at,
        )

    return build


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerScoreOut,
    summary="A customer's churn risk and lifetime value",
    responses=problem_responses(
        {404: "No such run, no active run, or no score for the customer (no purchase in the run's window)"},
        {409: RUN_NOT_SUCCEEDED},
    ),
)
async def get_customer_score(
    customer_id: uuid.UUID, session: SessionDep, run_id: RunIdParam = None
) -> CustomerScoreOut:
    with app_errors():
        run = await scores.scored_run(session, run_id)
        return _score_of(run)(await scores.customer_score(session, run, customer_id))


@router.get(
    "/customers",
    response_model=Page[CustomerScoreOut],
    summary="Customer scores, filtered by risk tier or value band (ordered by customer id)",
    responses=_RUN_PROBLEMS,
)
async def list_customer_scores(
    session: SessionDep,
    risk_tier: Annotated[RiskTierName | None, Query()] = None,
    value_band: Annotated[ValueBandName | None, Query()] = None,
    run_id: RunIdParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[CustomerScoreOut]:
    with app_errors():
        run = await scores.scored_run(session, run_id)
    return await scores.list_scores(
        session, run, risk_tier=risk_tier, value_band=value_band, limit=limit, cursor=cursor, to_item=_score_of(run)
    )


class EquityGroup(BaseModel):
    key: str
    customers: int
    equity: Money


class EquityOut(BaseModel):
    run_id: uuid.UUID
    as_of: date = Field(description="The run's calibration end")
    horizon_months: int
    reporting_currency: CurrencyCode = Field(description="The currency of the money figures (the run's)")
    customers: int
    equity: Money = Field(description="Sum of the customers' discounted CLV over the horizon")
    by_risk_tier: list[EquityGroup]
    by_value_band: list[EquityGroup]


@router.get(
    "/equity",
    response_model=EquityOut,
    summary="Customer equity: the sum of lifetime values, overall and per risk tier and value band",
    responses=_RUN_PROBLEMS,
)
async def get_equity(session: SessionDep, run_id: RunIdParam = None) -> EquityOut:
    with app_errors():
        run = await scores.scored_run(session, run_id)
    equity = await scores.customer_equity(session, run)

    def groups(items: list[scores.EquityGroup]) -> list[EquityGroup]:
        return [EquityGroup(key=g.key, customers=g.customers, equity=money(g.total_clv, run.currency)) for g in items]

    return EquityOut(
        run_id=run.id,
        as_of=run.calibration_end,
        horizon_months=run.horizon_months,
        reporting_currency=run.currency,
        customers=equity.customers,
        equity=money(equity.total_clv, run.currency),
        by_risk_tier=groups(equity.by_risk_tier),
        by_value_band=groups(equity.by_value_band),
    )
