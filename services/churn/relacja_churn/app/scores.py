"""Customer scores and customer equity, read from a run (the active one unless named).

Erased customers are left out of the score lists (their single score stays readable by
id; the equity, an aggregate, counts them); a merged customer's id reads the survivor's
score.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_servicekit.pagination import Page, paginate

from ..tables import customers, model_runs, scores
from .errors import NoActiveRun, RunHasNoScores, RunNotFound, ScoreNotFound
from .store import resolve_alias

__all__ = ["Equity", "EquityGroup", "customer_equity", "customer_score", "list_scores", "scored_run"]

T = TypeVar("T")


@dataclass(frozen=True)
class EquityGroup:
    key: str
    customers: int
    total_clv: float


@dataclass(frozen=True)
class Equity:
    customers: int
    total_clv: float
    by_risk_tier: list[EquityGroup]
    by_value_band: list[EquityGroup]


async def scored_run(session: AsyncSession, run_id: uuid.UUID | None) -> Any:
    """The named run, or the active one; it must have succeeded (have scores)."""
    query = select(model_runs)
    query = query.where(model_runs.c.id == run_id) if run_id else query.where(model_runs.c.active)
    row = (await session.execute(query)).first()
    if row is None:
        raise RunNotFound(run_id) if run_id else NoActiveRun()
    if row.status != "succeeded":
        raise RunHasNoScores(row.id, row.status)
    return row


async def customer_score(session: AsyncSession, run: Any, customer_id: uuid.UUID) -> Any:
    survivor = await resolve_alias(session, customer_id)
    row = (
        await session.execute(select(scores).where(scores.c.run_id == run.id, scores.c.customer_id == survivor))
    ).first()
    if row is None:
        raise ScoreNotFound(customer_id, run.id)
    return row


def _not_erased() -> ColumnElement[bool]:
    erased = select(customers.c.customer_id).where(customers.c.erased_at.is_not(None))
    return scores.c.customer_id.not_in(erased)


async def list_scores(
    session: AsyncSession,
    run: Any,
    *,
    risk_tier: str | None,
    value_band: str | None,
    limit: int,
    cursor: str | None,
    to_item: Callable[[Any], T],
) -> Page[T]:
    """The run's scores by customer id, filtered by risk tier and value band."""
    query = select(scores).where(scores.c.run_id == run.id, _not_erased())
    if risk_tier:
        query = query.where(scores.c.risk_tier == risk_tier)
    if value_band:
        query = query.where(scores.c.value_band == value_band)
    return await paginate(
        session,
        query,
        keys=[scores.c.customer_id],
        limit=limit,
        cursor=cursor,
        to_item=to_item,
        sort=f"{run.id}:{risk_tier}:{value_band}",
    )


async def customer_equity(session: AsyncSession, run: Any) -> Equity:
    """The sum of the run's CLVs, overall and per risk tier and value band."""
    in_run = scores.c.run_id == run.id

    async def grouped(column: Any) -> list[EquityGroup]:
        rows = (
            await session.execute(
                select(column, func.count(), func.sum(scores.c.clv)).where(in_run).group_by(column).order_by(column)
            )
        ).all()
        return [EquityGroup(key, n, float(total)) for key, n, total in rows]

    n, total = (
        await session.execute(select(func.count(), func.coalesce(func.sum(scores.c.clv), 0.0)).where(in_run))
    ).one()
    return Equity(n, float(total), await grouped(scores.c.risk_tier), await grouped(scores.c.value_band))
