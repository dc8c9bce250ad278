"""Tier evaluation of one member (on every ledger change and daily) and its event.

The qualifying value over the programme's rolling window (``tier_window_months``):

    points   purchase and bonus points of orders paid in the window, net of their reversals
    spend    the net amount (after returns; 0 when cancelled) of orders paid in the window

Welcome points and adjustments do not qualify: a tier reflects what the member bought.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events.loyalty import TierChangedV1

from ..domain.earning import add_months
from ..domain.tiers import TierState, evaluate_tier
from ..tables import orders
from .events import outbox
from .ledger import MemberState
from .programmes import tiers_of

__all__ = ["qualifying_value", "reevaluate_tier"]


async def qualifying_value(session: AsyncSession, member_id: object, programme: RowMapping, now: datetime) -> Decimal:
    since = add_months(now, -programme["tier_window_months"])
    measure = (
        func.sum(orders.c.points_earned - orders.c.points_reversed)
        if programme["tier_basis"] == "points"
        else func.sum(orders.c.net_amount)
    )
    value = (
        await session.execute(
            select(func.coalesce(measure, 0)).where(orders.c.member_id == member_id, orders.c.paid_at > since)
        )
    ).scalar_one()
    return Decimal(value)


async def reevaluate_tier(
    session: AsyncSession, member: MemberState, programme: RowMapping, now: datetime, *, trigger: str = "change"
) -> None:
    """Update ``member``'s tier state (the caller saves it) and announce a change of tier."""
    tiers = tiers_of(programme)
    if not tiers and member.tier is None:
        return
    value = await qualifying_value(session, member.id, programme, now)
    before = member.tier
    state = evaluate_tier(
        tiers,
        TierState(member.tier, member.tier_below_since),
        value,
        now,
        timedelta(days=programme["tier_grace_days"]),
    )
    member.tier, member.tier_below_since = state.tier, state.below_since
    if state.tier != before:
        await outbox.add(
            session,
            TierChangedV1(
                customer_id=member.customer_id,
                member_id=member.id,
                programme_id=member.programme_id,
                previous_tier=before,
                tier=state.tier,
                trigger="daily" if trigger == "daily" else "change",
                changed_at=now,
            ),
        )
