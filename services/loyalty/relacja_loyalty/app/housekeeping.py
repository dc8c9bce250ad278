"""The scheduled work: lots past their expiry expire, and tiers are evaluated daily.

    expire_due(session, now)       up to ``batch`` members with a lot past its expiry: each
                                   member locked, one expire entry per lot (PointsExpiredV1)
    evaluate_tiers(session, now)   up to ``batch`` members with a tier not evaluated today:
                                   the window moves on even without new orders, so a member
                                   whose qualifying orders age out enters the grace period,
                                   and is downgraded when it ends

Each call is one transaction; the worker repeats until a call finds nothing.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.ledger import plan_expiry
from ..tables import ledger, members
from .ledger import locked_member, open_lots, save, take
from .programmes import programme_row
from .tiers import reevaluate_tier

__all__ = ["evaluate_tiers", "expire_due"]


async def expire_due(session: AsyncSession, now: datetime, *, batch: int = 200) -> int:
    member_ids = (
        (
            await session.execute(
                select(ledger.c.member_id)
                .where(ledger.c.remaining > 0, ledger.c.expires_at <= now)
                .group_by(ledger.c.member_id)
                .limit(batch)
            )
        )
        .scalars()
        .all()
    )
    expired = 0
    for member_id in sorted(member_ids):
        member = await locked_member(session, member_id)
        for taken in plan_expiry(await open_lots(session, member.id), now):
            await take(session, member, "expire", taken.points, [taken], now=now)
            expired += taken.points
        await save(session, member)
    return len(member_ids)


async def evaluate_tiers(session: AsyncSession, now: datetime, *, batch: int = 200) -> int:
    start_of_day = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
    member_ids = (
        (
            await session.execute(
                select(members.c.id)
                .where(
                    members.c.tier.is_not(None),
                    members.c.status == "active",
                    or_(members.c.tier_evaluated_at.is_(None), members.c.tier_evaluated_at < start_of_day),
                )
                .order_by(members.c.id)
                .limit(batch)
            )
        )
        .scalars()
        .all()
    )
    for member_id in member_ids:
        member = await locked_member(session, member_id)
        await reevaluate_tier(session, member, await programme_row(session, member.programme_id), now, trigger="daily")
        await save(session, member)
        await session.execute(update(members).where(members.c.id == member_id).values(tier_evaluated_at=now))
    return len(member_ids)
