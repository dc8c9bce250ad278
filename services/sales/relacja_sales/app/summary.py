"""A customer's sales at a glance (the ``sales`` part of the gateway's customer-360 view):
open deals and the next open activities, only those the caller may see."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.access import Caller
from ..tables import activities, opportunities
from .common import visible

__all__ = ["CustomerSales", "customer_sales"]

_SHOWN = 10


@dataclass(frozen=True)
class CustomerSales:
    customer_id: uuid.UUID
    open_opportunities: list[Any]
    next_activities: list[Any]


async def customer_sales(session: AsyncSession, caller: Caller, customer_id: uuid.UUID) -> CustomerSales:
    o, a = opportunities.c, activities.c
    deals = (
        await session.execute(
            select(opportunities)
            .where(o.customer_id == customer_id, o.status == "open", visible(caller, o.owner_id, o.team))
            .order_by(o.expected_close_date.asc().nulls_last(), o.id)
            .limit(_SHOWN)
        )
    ).all()
    upcoming = (
        await session.execute(
            select(activities)
            .where(a.customer_id == customer_id, a.status == "open", visible(caller, a.assignee_id, a.team))
            .order_by(a.due_at.asc().nulls_last(), a.id)
            .limit(_SHOWN)
        )
    ).all()
    return CustomerSales(customer_id, list(deals), list(upcoming))
