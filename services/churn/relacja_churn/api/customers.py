"""Customer scores and customer equity: ``/api/v1/churn/customers``, ``/api/v1/churn/equity``.

Scores are read from the active run unless ``run_id`` names another run. Erased
customers are left out of the lists (their single score stays readable by id).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page, paginate

from ..store import resolve_alias
from ..tables import customers, model_runs, scores
from .schemas import PROBLEM, CustomerScoreOut, HistorySummary, Money, RiskTierName, ValueBandName, money

router = APIRouter(prefix="/api/v1/churn", tags=["churn scores"])

RunIdParam = Annotated[uuid.UUID | None, Query(description="A run's scores instead of the active run's")]


async def _run(session, run_id: uuid.UUID | None):
    query = select(model_runs)
    query = query.where(model_runs.c.id == run_id) if run_id else query.where(model_runs.c.active)
    row = (await session.execute(query)).first()
    if row is None:
        if run_id:
            raise Problem(404, "Model run not found", f"No model run with id {run_id}.", type_="not-found")
        raise Problem(404, "No active model run", "Fit a model first: POST /api/v1/churn/models.", type_="no-active-run")
    if row.status != "succeeded":
        raise Problem(409, "Run has no scores", f"Run {row.id} is {row.status}.", type_="run-not-succeeded")
    return row


def _score_of(run):
    def build(row) -> CustomerScoreOut:
        return CustomerScoreOut(
            customer_id=row.customer_id, run_id=run.id, as_of=row.as_of, probability_alive=row.p_alive,
            risk_tier=row.risk_tier, value_band=row.value_band, horizon_months=run.horizon_months,
            expected_purchases=row.expected_purchases, expected_spend=money(row.expected_spend, run.currency),
            clv=money(row.clv, run.currency),
            history=HistorySummary(
                time_unit=run.time_unit, x=row.x, t_x=row.t_x, T=row.t_cal,
                first_purchase_on=row.first_purchase_on, last_purchase_on=row.last_purchase_on,
                mean_repeat_spend=money(row.monetary, run.currency),
            ),
            scored_at=row.scored_at,
        )

    return build


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerScoreOut,
    summary="A customer's churn risk and lifetime value",
    responses={
        404: {"description": "No active run, or no score for the customer (no purchase yet)", **PROBLEM},
        409: {"description": "The named run has no scores (not succeeded)", **PROBLEM},
    },
)
async def get_customer_score(customer_id: uuid.UUID, session: SessionDep, run_id: RunIdParam = None) -> CustomerScoreOut:
    run = await _run(session, run_id)
    survivor = await resolve_alias(session, customer_id)
    row = (
        await session.execute(select(scores).where(scores.c.run_id == run.id, scores.c.customer_id == survivor))
    ).first()
    if row is None:
        raise Problem(
            404, "No score", f"Customer {customer_id} has no score in run {run.id} (no purchase in its window).",
            type_="not-found",
        )
    return _score_of(run)(row)


@router.get(
    "/customers",
    response_model=Page[CustomerScoreOut],
    summary="Customer scores, filtered by risk tier or value band (ordered by customer id)",
    responses={404: {"description": "No active run", **PROBLEM}},
)
async def list_customer_scores(
    session: SessionDep,
    risk_tier: Annotated[RiskTierName | None, Query()] = None,
    value_band: Annotated[ValueBandName | None, Query()] = None,
    run_id: RunIdParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Page[CustomerScoreOut]:
    run = await _run(session, run_id)
    erased = select(customers.c.customer_id).where(customers.c.erased_at.is_not(None))
    query = select(scores).where(scores.c.run_id == run.id, scores.c.customer_id.not_in(erased))
    if risk_tier:
        query = query.where(scores.c.risk_tier == risk_tier)
    if value_band:
        query = query.where(scores.c.value_band == value_band)
    return await paginate(
        session, query, keys=[scores.c.customer_id], limit=limit, cursor=cursor,
        to_item=_score_of(run), sort=f"{run.id}:{risk_tier}:{value_band}",
    )


class EquityGroup(BaseModel):
    key: str
    customers: int
    equity: Money


class EquityOut(BaseModel):
    run_id: uuid.UUID
    as_of: str
    horizon_months: int
    customers: int
    equity: Money = Field(description="Sum of the customers' discounted CLV over the horizon")
    by_risk_tier: list[EquityGroup]
    by_value_band: list[EquityGroup]


@router.get(
    "/equity",
    response_model=EquityOut,
    summary="Customer equity: the sum of lifetime values, overall and per risk tier and value band",
    responses={404: {"description": "No active run", **PROBLEM}},
)
async def get_equity(session: SessionDep, run_id: RunIdParam = None) -> EquityOut:
    run = await _run(session, run_id)

    async def grouped(column) -> list[EquityGroup]:
        rows = (
            await session.execute(
                select(column, func.count(), func.sum(scores.c.clv)).where(scores.c.run_id == run.id)
                .group_by(column).order_by(column)
            )
        ).all()
        return [EquityGroup(key=k, customers=n, equity=money(total, run.currency)) for k, n, total in rows]

    n, total = (
        await session.execute(select(func.count(), func.coalesce(func.sum(scores.c.clv), 0.0)).where(scores.c.run_id == run.id))
    ).one()
    return EquityOut(
        run_id=run.id, as_of=run.calibration_end.isoformat(), horizon_months=run.horizon_months, customers=n,
        equity=money(total, run.currency), by_risk_tier=await grouped(scores.c.risk_tier),
        by_value_band=await grouped(scores.c.value_band),
    )
