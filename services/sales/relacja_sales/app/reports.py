"""The weighted forecast and the pipeline report, over the deals the caller may see.

Forecast: one GROUP BY in the database per (group, currency, date) — the partial index
``ix_opportunities_forecast`` (or the owner / team one for reps and team leads) finds the
period's deals that are not lost — then ``domain.forecast.add_up`` converts each partial sum
with the rate of its date and rounds once per cell. Groups: ``owner``, ``team``, ``stage``,
``month`` (of the forecast date) or none.

Pipeline report: the stage history of the pipeline's deals created in the window, read
once, and ``domain.history`` for conversion rates, stage ages, cycle time and win rate;
loss reasons counted in the database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import ColumnElement, Text, case, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain import history
from ..domain.access import Caller
from ..domain.forecast import ForecastCell, PartialSum, RateTable, add_up
from ..tables import opportunities, stage_history
from .common import visible
from .pipelines import get_pipeline, rate_rows

__all__ = ["GroupBy", "Forecast", "forecast", "PipelineReport", "pipeline_report"]

GroupBy = Literal["none", "owner", "team", "stage", "month"]


@dataclass(frozen=True)
class Forecast:
    reporting_currency: str
    start: date
    end: date
    group_by: GroupBy
    total: ForecastCell
    groups: list[tuple[str | None, ForecastCell]]


def _group_column(group_by: GroupBy) -> ColumnElement[Any]:
    c = opportunities.c
    if group_by == "owner":
        return c.owner_id
    if group_by == "team":
        return c.team
    if group_by == "stage":
        return cast(c.stage_id, Text)
    if group_by == "month":
        return func.to_char(c.forecast_date, "YYYY-MM")
    return literal(None)


async def forecast(
    session: AsyncSession,
    caller: Caller,
    *,
    start: date,
    end: date,
    group_by: GroupBy,
    reporting_currency: str,
    commit_probability: int,
    pipeline_id: uuid.UUID | None = None,
) -> Forecast:
    c = opportunities.c
    group = _group_column(group_by).label("group_key")
    won = c.status == "won"
    weighted = func.sum(case((won, c.amount), else_=c.amount * c.probability / 100))
    committed = func.sum(case((won | (c.probability >= commit_probability), c.amount), else_=0))
    query = (
        select(group, c.currency, c.forecast_date, weighted, committed, func.sum(c.amount), func.count())
        .where(
            c.status != "lost",
            c.forecast_date >= start,
            c.forecast_date <= end,
            visible(caller, c.owner_id, c.team),
        )
        .group_by(group, c.currency, c.forecast_date)
    )
    if pipeline_id is not None:
        query = query.where(c.pipeline_id == pipeline_id)
    partials = [
        PartialSum((key,), currency, day, Decimal(w), Decimal(cm), Decimal(best), count)
        for key, currency, day, w, cm, best, count in (await session.execute(query)).all()
    ]
    rates = RateTable(reporting_currency, await rate_rows(session))
    cells, total = add_up(partials, rates)
    groups = sorted(((key[0], cell) for key, cell in cells.items()), key=lambda item: (item[0] is None, item[0] or ""))
    return Forecast(reporting_currency, start, end, group_by, total, groups if group_by != "none" else [])


@dataclass(frozen=True)
class StageFigures:
    stage: Any
    average_age_seconds: int | None
    conversion_to_next_percent: Decimal | None


@dataclass(frozen=True)
class PipelineReport:
    pipeline_id: uuid.UUID
    created_from: date
    created_to: date
    deals: int
    won: int
    lost: int
    win_rate_percent: Decimal | None
    average_cycle_seconds: int | None
    stages: list[StageFigures]
    loss_reasons: list[tuple[str, int]]


async def pipeline_report(
    session: AsyncSession,
    caller: Caller,
    pipeline_id: uuid.UUID,
    *,
    created_from: date,
    created_to: date,
    now: datetime,
) -> PipelineReport:
    pipeline = await get_pipeline(session, pipeline_id)
    c = opportunities.c
    scope = [
        c.pipeline_id == pipeline_id,
        func.date(func.timezone("UTC", c.created_at)) >= created_from,
        func.date(func.timezone("UTC", c.created_at)) <= created_to,
        visible(caller, c.owner_id, c.team),
    ]
    status_counts: dict[str, int] = dict(
        (await session.execute(select(c.status, func.count()).where(*scope).group_by(c.status))).tuples().all()
    )
    closed_spans = (
        await session.execute(select(c.created_at, c.closed_at).where(*scope, c.closed_at.is_not(None)))
    ).all()
    h = stage_history.c
    entries = [
        history.StageEntry(row.opportunity_id, row.to_stage_id, row.changed_at, row.left_at)
        for row in (
            await session.execute(
                select(h.opportunity_id, h.to_stage_id, h.changed_at, h.left_at)
                .join(opportunities, c.id == h.opportunity_id)
                .where(*scope)
            )
        ).all()
    ]
    reasons = (
        (
            await session.execute(
                select(c.loss_reason, func.count())
                .where(*scope, c.status == "lost")
                .group_by(c.loss_reason)
                .order_by(func.count().desc(), c.loss_reason)
            )
        )
        .tuples()
        .all()
    )
    # Conversion runs along the open stages and the won stage; lost stages end a deal's path.
    path = [s for s in pipeline.stages if s.active and (not s.is_closed or s.is_won)]
    ages = history.stage_ages(entries, now)
    rates = {source: rate for source, _, rate in history.conversions(entries, [s.id for s in path])}
    figures = [
        StageFigures(stage, ages.get(stage.id), rates.get(stage.id)) for stage in pipeline.stages if stage.active
    ]
    won, lost = status_counts.get("won", 0), status_counts.get("lost", 0)
    return PipelineReport(
        pipeline_id=pipeline_id,
        created_from=created_from,
        created_to=created_to,
        deals=sum(status_counts.values()),
        won=won,
        lost=lost,
        win_rate_percent=history.win_rate(status_counts),
        average_cycle_seconds=history.mean_seconds((a, b) for a, b in closed_spans),
        stages=figures,
        loss_reasons=[(reason, count) for reason, count in reasons],
    )
