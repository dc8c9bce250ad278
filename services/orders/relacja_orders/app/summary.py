"""A customer's order history in brief, for the gateway's customer-360 view and for
per-customer totals.

    customer_summary(session, customer_id) → CustomerOrderSummary; NotFound

    order_count                 every order, cancelled ones included
    first_order_at, last_order_at
    totals[]                    per currency (amounts are never added across currencies):
                                orders, gross and net of the orders that were not cancelled
                                (net: after returns), refunded
    last_orders[]               the LAST_ORDERS newest: id, number, status, placed_at, total, currency

``NotFound`` when the customer is neither known from customer events nor has any order.
"""

from __future__ import annotations

import uuid

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.money import round_money
from ..tables import known_customers, orders
from .errors import NotFound
from .schemas import CurrencyTotals, CustomerOrderSummary, RecentOrder

__all__ = ["LAST_ORDERS", "customer_summary"]

LAST_ORDERS = 5


async def customer_summary(session: AsyncSession, customer_id: uuid.UUID) -> CustomerOrderSummary:
    live = orders.c.status != "cancelled"
    per_currency = (
        await session.execute(
            select(
                orders.c.currency,
                func.count().label("order_count"),
                func.coalesce(func.sum(case((live, orders.c.gross_amount), else_=0)), 0).label("gross_amount"),
                func.coalesce(func.sum(orders.c.net_amount), 0).label("net_amount"),
                func.coalesce(func.sum(orders.c.refunded_amount), 0).label("refunded_amount"),
                func.min(orders.c.placed_at).label("first"),
                func.max(orders.c.placed_at).label("last"),
            )
            .where(orders.c.customer_id == customer_id)
            .group_by(orders.c.currency)
            .order_by(orders.c.currency)
        )
    ).all()
    if not per_currency:
        known = await session.scalar(
            select(known_customers.c.state).where(known_customers.c.customer_id == customer_id)
        )
        if known is None:
            raise NotFound("Customer", customer_id, f"No customer {customer_id} is known to the orders service.")
    recent = (
        await session.execute(
            select(
                orders.c.id,
                orders.c.number,
                orders.c.status,
                orders.c.placed_at,
                orders.c.total_amount,
                orders.c.currency,
            )
            .where(orders.c.customer_id == customer_id)
            .order_by(orders.c.placed_at.desc(), orders.c.id.desc())
            .limit(LAST_ORDERS)
        )
    ).all()
    return CustomerOrderSummary(
        customer_id=customer_id,
        order_count=sum(row.order_count for row in per_currency),
        first_order_at=min((row.first for row in per_currency), default=None),
        last_order_at=max((row.last for row in per_currency), default=None),
        totals=[
            CurrencyTotals(
                currency=row.currency,
                order_count=row.order_count,
                gross_amount=round_money(row.gross_amount, row.currency),
                net_amount=round_money(row.net_amount, row.currency),
                refunded_amount=round_money(row.refunded_amount, row.currency),
            )
            for row in per_currency
        ],
        last_orders=[
            RecentOrder(
                id=r.id,
                number=r.number,
                status=r.status,
                placed_at=r.placed_at,
                total_amount=round_money(r.total_amount, r.currency),
                currency=r.currency,
            )
            for r in recent
        ],
    )
