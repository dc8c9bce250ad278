"""Read-only views over many tickets: service metrics and one customer's summary.

    metrics            the tickets opened in [start, end): counts, business-time percentiles,
                       the breach rate, complaints per 1,000 orders (orders from ``relacja.orders``)
    customer_summary   a customer's active tickets (soonest due first), counts by status,
                       the last answered survey — for the gateway's customer-360 view

Definitions: docs/tickets.md, "Metrics".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..tables import is_active, known_orders, surveys, tickets

__all__ = ["SUMMARY_OPEN_LIMIT", "Durations", "Metrics", "CustomerSummary", "metrics", "customer_summary"]

SUMMARY_OPEN_LIMIT = 50


@dataclass(frozen=True)
class Durations:
    count: int
    median_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True)
class Metrics:
    start: datetime
    end: datetime
    opened: int
    complaints: int
    backlog: int
    first_response: Durations
    resolution: Durations
    with_sla: int
    breached: int
    breach_rate: float | None
    orders: int
    complaints_per_1000_orders: float | None


@dataclass(frozen=True)
class CustomerSummary:
    customer_id: uuid.UUID
    open_tickets: list[Any]  # rows: id, type, priority, status, opened_at, next_due_at, sla_breached
    counts: dict[str, int]
    last_satisfaction: Any | None  # row: kind, score, answered_at


def _durations(column: Any) -> list[Any]:
    return [
        func.count(column),
        func.percentile_cont(0.5).within_group(column),
        func.percentile_cont(0.9).within_group(column),
    ]


async def metrics(session: AsyncSession, start: datetime, end: datetime) -> Metrics:
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
        await session.execute(
            select(func.count()).where(known_orders.c.placed_at >= start, known_orders.c.placed_at < end)
        )
    ).scalar_one()
    return Metrics(
        start=start,
        end=end,
        opened=opened,
        complaints=complaints,
        backlog=backlog,
        first_response=Durations(fr_n, fr_med, fr_p90),
        resolution=Durations(res_n, res_med, res_p90),
        with_sla=with_sla,
        breached=breached,
        breach_rate=round(breached / with_sla, 4) if with_sla else None,
        orders=orders,
        complaints_per_1000_orders=round(1000 * complaints / orders, 3) if orders else None,
    )


async def customer_summary(session: AsyncSession, customer_id: uuid.UUID) -> CustomerSummary:
    c = tickets.c
    open_rows = (
        await session.execute(
            select(c.id, c.type, c.priority, c.status, c.opened_at, c.next_due_at, c.sla_breached)
            .where(c.customer_id == customer_id, is_active())
            .order_by(c.next_due_at, c.id)
            .limit(SUMMARY_OPEN_LIMIT)
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
    return CustomerSummary(customer_id=customer_id, open_tickets=list(open_rows), counts=counts, last_satisfaction=last)
