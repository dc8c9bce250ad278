"""Points from orders: accrual when an order is paid, reversal when it is cancelled or returned.

Why ``OrderPaidV1`` and not ``OrderPlacedV1``: points reward money received. A placed order
may never be paid (it is cancelled, or abandoned), and points for it would have to be
reversed; every live order passes through ``paid`` before it is fulfilled, so nothing is
missed. The pending period counts from the payment. Imported (historical) orders emit no
``OrderPaidV1`` and earn nothing: they predate the programme.

    accrue(order paid)   the customer's active membership in the programme of the order's
                         currency (at most one per currency is looked up; the first enrolled)
                         earns the rules' lots; one ``loyalty_orders`` row per order makes a
                         redelivered event earn nothing again (and a unique index per
                         (order, rule) backs it)
    earning_customers    which of a batch's buyers are members at all (one query)
    settle(snapshot)     cancelled or returned: reverse what the snapshot says should be
                         reversed by now (``domain.earning.reversal_target``) minus what was
                         reversed before — exact, idempotent, and safe for late snapshots

Both run in the consumer's inbox transaction with the member row locked.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events.orders import OrderCancelledV1, OrderPaidV1, OrderReturnedV1

from ..domain.earning import OrderLineAmount, earnings_for_order, expires_at, reversal_target, spendable_at
from ..domain.ledger import plan_reversal
from ..domain.tiers import tier_multiplier
from ..tables import members, orders, programmes
from .ledger import add_lot, locked_earning_member, locked_member, open_lots, save, take
from .programmes import programme_row, rule_set, tiers_of
from .tiers import reevaluate_tier

__all__ = ["accrue", "earning_customers", "settle"]


async def earning_customers(session: AsyncSession, orders_paid: Sequence[OrderPaidV1]) -> set[tuple[uuid.UUID, str]]:
    """The (customer, currency) pairs of these paid orders that have an active membership in
    that currency's programme: one query for a batch, so ``accrue`` (which locks the member
    and checks the enrolment date) runs only for members — most buyers are none."""
    customer_ids = {payload.customer_id for payload in orders_paid}
    if not customer_ids:
        return set()
    rows = await session.execute(
        select(members.c.customer_id, programmes.c.currency)
        .select_from(members.join(programmes, programmes.c.id == members.c.programme_id))
        .where(members.c.customer_id.in_(customer_ids), members.c.status == "active")
        .distinct()
    )
    return {(row.customer_id, row.currency) for row in rows}


async def accrue(session: AsyncSession, payload: OrderPaidV1) -> int:
    """Earn the paid order's points; the points earned (0 when not a member or already earned)."""
    member = await locked_earning_member(session, payload.customer_id, payload.currency, payload.occurred_at)
    if member is None:
        return 0
    programme = await programme_row(session, member.programme_id)
    rules = rule_set(programme)
    paid_at = payload.occurred_at
    earnings = earnings_for_order(
        rules,
        [OrderLineAmount(line.category, line.line_amount) for line in payload.lines],
        payload.net_amount,
        tier_multiplier=tier_multiplier(tiers_of(programme), member.tier),
        birthday_month=member.birth_month == paid_at.month,
    )
    total = sum(earning.points for earning in earnings)
    claimed = await session.execute(
        insert(orders)
        .values(
            order_id=payload.order_id,
            member_id=member.id,
            currency=payload.currency,
            paid_at=paid_at,
            gross_amount=payload.gross_amount,
            returned_amount=payload.returned_amount,
            net_amount=payload.net_amount,
            points_earned=total,
            snapshot_at=payload.occurred_at,
        )
        .on_conflict_do_nothing(index_elements=["order_id"])
        .returning(orders.c.order_id)
    )
    if claimed.first() is None:
        return 0
    for earning in earnings:
        await add_lot(
            session,
            member,
            earning.points,
            now=paid_at,
            spendable_at=spendable_at(rules, paid_at),
            expires_at=expires_at(rules, paid_at),
            rule=earning.rule,
            order_id=payload.order_id,
        )
    await reevaluate_tier(session, member, programme, paid_at)
    await save(session, member)
    return total


async def settle(session: AsyncSession, payload: OrderCancelledV1 | OrderReturnedV1, now: datetime) -> int:
    """Reverse what a cancellation or return takes back; the points reversed by this event."""
    order = (await session.execute(select(orders).where(orders.c.order_id == payload.order_id))).mappings().first()
    if order is None:
        return 0  # not a member's paid order: nothing was earned
    cancelled = isinstance(payload, OrderCancelledV1)
    returned = max(Decimal(order["returned_amount"]), payload.returned_amount)
    await session.execute(
        update(orders)
        .where(orders.c.order_id == payload.order_id)
        .values(
            returned_amount=returned,
            net_amount=Decimal(0) if cancelled else payload.net_amount,
            cancelled=order["cancelled"] or cancelled,
            snapshot_at=payload.occurred_at,
        )
    )
    target = reversal_target(
        order["points_earned"], Decimal(order["gross_amount"]), returned, cancelled=cancelled or order["cancelled"]
    )
    due = target - order["points_reversed"]
    if due <= 0:
        return 0
    member = await locked_member(session, order["member_id"])
    takes, shortfall = plan_reversal(await open_lots(session, member.id, order_id=payload.order_id), due)
    await take(
        session,
        member,
        "reverse",
        due,
        takes,
        now=now,
        debt=shortfall,
        order_id=payload.order_id,
        cause="cancellation" if cancelled else "return",
    )
    await session.execute(update(orders).where(orders.c.order_id == payload.order_id).values(points_reversed=target))
    programme = await programme_row(session, member.programme_id)
    await reevaluate_tier(session, member, programme, now)
    await save(session, member)
    return due
