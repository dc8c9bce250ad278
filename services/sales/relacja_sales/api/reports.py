"""Reports: ``/api/v1/sales/forecast``, ``/api/v1/sales/reports/pipeline``,
``/api/v1/sales/customers/{id}/summary`` (the customer-360 part). All aggregate only what
the caller may see."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request

from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.types import Day
from relacja_servicekit.validation import RequireJson

from ..app import reports as use_cases
from ..app.reports import GroupBy
from ..app.summary import customer_sales
from ..domain.forecast import ForecastCell
from .caller import CallerDep
from .schemas import (
    CustomerSalesPublic,
    ForecastFigures,
    ForecastGroup,
    ForecastPublic,
    LossReasonCount,
    PipelineReportPublic,
    StageReport,
)
from .views import activity_public, opportunity_public, stage_public

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/sales", tags=["sales reports"], dependencies=[RequireJson])

_MAX_DAYS = 366


def _range(start: date, end: date, field: str) -> None:
    if end < start or (end - start).days > _MAX_DAYS:
        raise Problem(
            400,
            "Invalid parameter",
            f"The period must be 1 to {_MAX_DAYS + 1} days, end on or after start.",
            type_="invalid-parameter",
            errors=[{"field": field, "message": f"must be on or after the start, at most {_MAX_DAYS} days later"}],
        )


def _figures(cell: ForecastCell) -> dict[str, object]:
    return {
        "weighted": cell.weighted,
        "committed": cell.committed,
        "best_case": cell.best_case,
        "deals": cell.deals,
        "unconverted_currencies": sorted(cell.unconverted),
    }


@router.get(
    "/forecast",
    response_model=ForecastPublic,
    summary="Weighted forecast for a period, with committed and best-case views",
    description="Deals whose expected close date (won deals: close date) is in [start, end], lost deals excluded, "
    "converted into the reporting currency at the rate of that date, to the cent. See docs/sales.md.",
    responses=problem_responses({400: "end before start, or a period longer than 367 days"}),
)
async def forecast(
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    start: Day,
    end: Day,
    group_by: GroupBy = "none",
    pipeline_id: uuid.UUID | None = None,
) -> ForecastPublic:
    _range(start, end, "query.end")
    settings = request.app.state.settings
    result = await use_cases.forecast(
        session,
        caller,
        start=start,
        end=end,
        group_by=group_by,
        reporting_currency=settings.reporting_currency,
        commit_probability=settings.commit_probability,
        pipeline_id=pipeline_id,
    )
    return ForecastPublic(
        reporting_currency=result.reporting_currency,
        start=start,
        end=end,
        group_by=group_by,
        commit_probability=settings.commit_probability,
        total=ForecastFigures(**_figures(result.total)),
        groups=[ForecastGroup(key=key, **_figures(cell)) for key, cell in result.groups],
    )


@router.get(
    "/reports/pipeline",
    response_model=PipelineReportPublic,
    summary="Pipeline report: conversion between stages, stage age, cycle time, win rate, loss reasons",
    description="Over the pipeline's deals created in [created_from, created_to] (default: the last 90 days).",
    responses=problem_responses(
        {400: "created_to before created_from, or a window longer than 367 days"}, {404: "No such pipeline"}
    ),
)
async def pipeline_report(
    session: SessionDep,
    caller: CallerDep,
    pipeline_id: uuid.UUID,
    created_from: Annotated[Day | None, Query()] = None,
    created_to: Annotated[Day | None, Query()] = None,
) -> PipelineReportPublic:
    now = datetime.now(UTC)
    end = created_to or now.date()
    start = created_from or end - timedelta(days=90)
    _range(start, end, "query.created_to")
    report = await use_cases.pipeline_report(session, caller, pipeline_id, created_from=start, created_to=end, now=now)
    return PipelineReportPublic(
        pipeline_id=report.pipeline_id,
        created_from=report.created_from,
        created_to=report.created_to,
        deals=report.deals,
        won=report.won,
        lost=report.lost,
        win_rate_percent=report.win_rate_percent,
        average_cycle_seconds=report.average_cycle_seconds,
        stages=[
            StageReport(
                stage=stage_public(f.stage),
                average_age_seconds=f.average_age_seconds,
                conversion_to_next_percent=f.conversion_to_next_percent,
            )
            for f in report.stages
        ],
        loss_reasons=[LossReasonCount(loss_reason=r, count=n) for r, n in report.loss_reasons],
    )


@router.get(
    "/customers/{customer_id}/summary",
    response_model=CustomerSalesPublic,
    summary="A customer's open opportunities and next activities (the customer-360 part)",
)
async def customer_summary(customer_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> CustomerSalesPublic:
    result = await customer_sales(session, caller, customer_id)
    return CustomerSalesPublic(
        customer_id=customer_id,
        open_opportunities=[opportunity_public(r) for r in result.open_opportunities],
        next_activities=[activity_public(r) for r in result.next_activities],
    )
