"""Read-only views over many tickets: service metrics and one customer's summary.

    GET /api/v1/tickets/metrics?from=&to=                  service metrics of the tickets opened in [from, to)
    GET /api/v1/tickets/customers/{customer_id}/summary    for the gateway's customer-360 view

The queries are app/insights.py; definitions in docs/tickets.md, "Metrics".
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from relacja_servicekit import SessionDep
from relacja_servicekit.types import Timestamp
from relacja_servicekit.validation import RequireJson

from ..app import insights as use_cases
from ..app.insights import SUMMARY_OPEN_LIMIT
from ..tables import FAR_FUTURE
from .problems import invalid_parameter

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/tickets", tags=["ticket metrics"], dependencies=[RequireJson])

_MAX_WINDOW_DAYS = 3660


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


@router.get(
    "/metrics",
    response_model=Metrics,
    response_model_by_alias=True,
    summary="Service metrics of the tickets opened in [from, to)",
    description=f"`to` must be after `from`, at most {_MAX_WINDOW_DAYS} days later (400 otherwise).",
)
async def metrics(
    session: SessionDep,
    start: Annotated[Timestamp, Query(alias="from", description="RFC 3339 with offset, inclusive")],
    end: Annotated[Timestamp, Query(alias="to", description="RFC 3339 with offset, exclusive")],
) -> Metrics:
    for name, value in (("from", start), ("to", end)):
        if value.tzinfo is None:
            raise invalid_parameter(
                f"query.{name}", "timezone required", f"'{name}' needs a time zone offset (RFC 3339)."
            )
    if end <= start:
        raise invalid_parameter("query.to", "must be after 'from'", "'to' must be after 'from'.")
    if (end - start).days > _MAX_WINDOW_DAYS:
        raise invalid_parameter("query.to", "at most ten years after 'from'", "The window is at most ten years.")
    result = await use_cases.metrics(session, start, end)
    return Metrics(
        start=result.start,
        end=result.end,
        opened=result.opened,
        complaints=result.complaints,
        backlog=result.backlog,
        first_response=Durations(**vars(result.first_response)),
        resolution=Durations(**vars(result.resolution)),
        with_sla=result.with_sla,
        breached=result.breached,
        breach_rate=result.breach_rate,
        orders=result.orders,
        complaints_per_1000_orders=result.complaints_per_1000_orders,
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
    open_tickets: list[OpenTicket] = Field(
        description=f"Active tickets, soonest due first (at most {SUMMARY_OPEN_LIMIT})"
    )
    counts: dict[str, int] = Field(description="Tickets by status, plus total and complaints")
    last_satisfaction: LastSatisfaction | None


@router.get(
    "/customers/{customer_id}/summary",
    response_model=CustomerSummary,
    summary="A customer's tickets at a glance (for the customer-360 view)",
    description="Always 200: a customer without tickets has empty lists and zero counts (the customers service says whether it exists).",
)
async def customer_summary(customer_id: uuid.UUID, session: SessionDep) -> CustomerSummary:
    summary = await use_cases.customer_summary(session, customer_id)
    last = summary.last_satisfaction
    return CustomerSummary(
        customer_id=customer_id,
        open_tickets=[
            OpenTicket(
                id=r.id,
                type=r.type,
                priority=r.priority,
                status=r.status,
                opened_at=r.opened_at,
                sla_due_at=None if r.next_due_at == FAR_FUTURE else r.next_due_at,
                sla_breached=r.sla_breached,
            )
            for r in summary.open_tickets
        ],
        counts=summary.counts,
        last_satisfaction=LastSatisfaction(kind=last.kind, score=last.score, answered_at=last.answered_at)
        if last
        else None,
    )
