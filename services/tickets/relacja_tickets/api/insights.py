"""Read-only views over many tickets: service metrics and one customer's summary.

    GET /api/v1/tickets/metrics?from=&to=                  service metrics of the tickets opened in [from, to)
    GET /api/v1/tickets/customers/{customer_id}/summary    for the gateway's customer-360 view

Metrics (docs/tickets.md, "Metrics"): first-response and resolution times are business
seconds (pauses excluded) of tickets opened in the window that got there; the breach rate
is the share of those tickets under an SLA that breached a target; the backlog is how many
of them are still active now; complaints per 1,000 orders divides the complaints opened in
the window by the orders placed in it (from ``relacja.orders``; null when none is known).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import func, select

from relacja_servicekit import SessionDep
from relacja_servicekit.validation import RequireJson

from ..tables import FAR_FUTURE, is_active, known_orders, surveys, tickets
from .http import PROBLEM, invalid

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/tickets", tags=["ticket metrics"], dependencies=[RequireJson])

_SUMMARY_OPEN_LIMIT = 50


class Durations(BaseModel):
    count: int = Field(description="Tickets that reached this point")
    median_seconds: float | None
    p90_seconds: float | None


class Metrics(BaseModel):
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    opened: int
    complaints: int
    backlog: int = Field(description="Tickets opened in the window that are still new, open or pending the customer")
    first_response: Durations
    resolution: Durations
    with_sla: int
    breached: int
    breach_rate: float | None = Field(description="breached / with_sla; null without SLA tickets")
    orders: int = Field(description="Orders placed in the window (known from order events)")
    complaints_per_1000_orders: float | None = Field(description="Null when no order in the window is known")


def _durations(column: object) -> list[object]:
    return [
        func.count(column),
        func.percentile_cont(0.5).within_group(column),
        func.percentile_cont(0.9).within_group(column),
    ]


@router.get("/metrics", response_model=Metrics, response_model_by_alias=True, summary="Service metrics of the tickets opened in [from, to)",
            responses={400: PROBLEM})
async def metrics(
    session: SessionDep,
    start: Annotated[AwareDatetime, Query(alias="from", description="RFC 3339, inclusive")],
    end: Annotated[AwareDatetime, Query(alias="to", description="RFC 3339, exclusive")],
) -> Metrics:
    if end <= start:
        raise invalid(400, "'to' must be after 'from'.", [("query.to", "must be after 'from'")], type_="invalid-parameter")
    if (end - start).days > 3660:
        raise invalid(400, "The window is at most ten years.", [("query.to", "at most ten years after 'from'")], type_="invalid-parameter")
    c = tickets.c
    row = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(c.type == "complaint"),
                func.count().filter(is_active()),
                *_durations(c.first_response_seconds),
                *_durations(c.resolution_seconds),
                func.count().filter(c.policy_id.is_not(None)),
                func.count().filter(c.sla_breached),
            ).where(c.opened_at >= start, c.opened_at < end)
        )
    ).one()
    opened, complaints, backlog, fr_n, fr_med, fr_p90, res_n, res_med, res_p90, with_sla, breached = row
    orders = (
        await session.execute(select(func.count()).where(known_orders.c.placed_at >= start, known_orders.c.placed_at < end))
    ).scalar_one()
    return Metrics(
        start=start,
        end=end,
        opened=opened,
        complaints=complaints,
        backlog=backlog,
        first_response=Durations(count=fr_n, median_seconds=fr_med, p90_seconds=fr_p90),
        resolution=Durations(count=res_n, median_seconds=res_med, p90_seconds=res_p90),
        with_sla=with_sla,
        breached=breached,
        breach_rate=round(breached / with_sla, 4) if with_sla else None,
        orders=orders,
        complaints_per_1000_orders=round(1000 * complaints / orders, 3) if orders else None,
    )


class OpenTicket(BaseModel):
    id: uuid.UUID
    type: str
    priority: str
    status: str
    opened_at: datetime
    sla_due_at: datetime | None = Field(description="Next running SLA target's due time; null if paused or none")
    sla_breached: bool


class LastSatisfaction(BaseModel):
    kind: str
    score: int
    answered_at: datetime


class CustomerSummary(BaseModel):
    customer_id: uuid.UUID
    open_tickets: list[OpenTicket] = Field(description=f"Active tickets, soonest due first (at most {_SUMMARY_OPEN_LIMIT})")
    counts: dict[str, int] = Field(description="Tickets by status, plus total and complaints")
    last_satisfaction: LastSatisfaction | None


@router.get("/customers/{customer_id}/summary", response_model=CustomerSummary,
            summary="A customer's tickets at a glance (for the customer-360 view)",
            description="Always 200: a customer without tickets has empty lists and zero counts (the customers service says whether it exists).")
async def customer_summary(customer_id: uuid.UUID, session: SessionDep) -> CustomerSummary:
    c = tickets.c
    open_rows = (
        await session.execute(
            select(c.id, c.type, c.priority, c.status, c.opened_at, c.next_due_at, c.sla_breached)
            .where(c.customer_id == customer_id, is_active())
            .order_by(c.next_due_at, c.id)
            .limit(_SUMMARY_OPEN_LIMIT)
        )
    ).all()
    by_status = (
        await session.execute(
            select(c.status, func.count(), func.count().filter(c.type == "complaint"))
            .where(c.customer_id == customer_id)
            .group_by(c.status)
        )
    ).all()
    counts = dict.fromkeys(("new", "open", "pending_customer", "resolved", "closed"), 0)
    complaints = 0
    for status, count, status_complaints in by_status:
        counts[status] = count
        complaints += status_complaints
    counts |= {"total": sum(counts.values()), "complaints": complaints}
    last = (
        await session.execute(
            select(surveys.c.kind, surveys.c.score, surveys.c.answered_at)
            .where(surveys.c.customer_id == customer_id, surveys.c.answered_at.is_not(None))
            .order_by(surveys.c.answered_at.desc())
            .limit(1)
        )
    ).first()
    return CustomerSummary(
        customer_id=customer_id,
        open_tickets=[
            OpenTicket(id=r.id, type=r.type, priority=r.priority, status=r.status, opened_at=r.opened_at,
                       sla_due_at=None if r.next_due_at == FAR_FUTURE else r.next_due_at, sla_breached=r.sla_breached)
            for r in open_rows
        ],
        counts=counts,
        last_satisfaction=LastSatisfaction(kind=last.kind, score=last.score, answered_at=last.answered_at) if last else None,
    )
