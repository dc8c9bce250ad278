"""Programme KPIs, computed by PostgreSQL in two aggregate queries over the programme's members.

active_members         members with status active
points_issued          earned + positive adjustments − reversals
points_redeemed        redeemed (as a positive number)
points_expired         expired (as a positive number)
redemption_rate        redeemed / issued
outstanding_points     Σ balances (the ledger's sum)
outstanding_liability  outstanding_points × point_value
members_per_tier       active members by tier
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..tables import ledger, members
from .programmes import programme_row
from .schemas import ProgrammeKpis

__all__ = ["programme_kpis"]


async def programme_kpis(session: AsyncSession, programme_id: uuid.UUID) -> ProgrammeKpis:
    programme = await programme_row(session, programme_id)
    in_programme = select(members.c.id).where(members.c.programme_id == programme_id).scalar_subquery()
    points = ledger.c.points
    issued, redeemed, expired = (
        await session.execute(
            select(
                func.coalesce(
                    func.sum(
                        case(
                            (ledger.c.kind.in_(["earn", "reverse"]), points),
                            (ledger.c.kind == "adjust", func.greatest(points, 0)),
                            else_=0,
                        )
                    ),
                    0,
                ),
                func.coalesce(func.sum(case((ledger.c.kind == "redeem", -points), else_=0)), 0),
                func.coalesce(func.sum(case((ledger.c.kind == "expire", -points), else_=0)), 0),
            ).where(ledger.c.member_id.in_(in_programme))
        )
    ).one()
    tiers = (
        await session.execute(
            select(func.coalesce(members.c.tier, "none"), func.count())
            .where(members.c.programme_id == programme_id, members.c.status == "active")
            .group_by(members.c.tier)
        )
    ).all()
    outstanding = (
        await session.execute(
            select(func.coalesce(func.sum(members.c.balance), 0)).where(members.c.programme_id == programme_id)
        )
    ).scalar_one()
    per_tier = {str(name): int(count) for name, count in tiers}
    rate = (Decimal(redeemed) / Decimal(issued)).quantize(Decimal("0.0001")) if issued > 0 else Decimal(0)
    return ProgrammeKpis(
        programme_id=programme_id,
        currency=programme["currency"],
        active_members=sum(per_tier.values()),
        points_issued=int(issued),
        points_redeemed=int(redeemed),
        points_expired=int(expired),
        redemption_rate=rate,
        outstanding_points=int(outstanding),
        outstanding_liability=(Decimal(outstanding) * programme["point_value"]).quantize(Decimal("0.01")),
        members_per_tier=per_tier,
    )
