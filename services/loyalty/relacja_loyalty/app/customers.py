"""What the customers' and segmentation's events change here.

merged(survivor, merged)   each membership of the merged customer: when the survivor is a
                           member of the same programme, the ledger (entries and lots),
                           the orders, balance and debt move to the survivor's membership
                           and the merged one becomes ``merged``; otherwise the membership
                           is re-keyed to the survivor. Personal coupons follow.
erased(customer)           personal data goes: card number, birth month, adjustment
                           reasons (free text); the ledger's amounts stay for the
                           programme's accounts; active personal coupons are revoked
birthday(customer, date)   the birth month the birthday multiplier looks at
segment membership         the projection offer audiences are checked against
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events.loyalty import CouponRevokedV1

from ..tables import coupons, ledger, members, orders, segment_members
from .events import outbox
from .ledger import locked_member, save
from .programmes import programme_row
from .tiers import reevaluate_tier

__all__ = ["birthday", "erased", "merged", "segment_joined", "segment_left"]


async def merged(session: AsyncSession, survivor: uuid.UUID, gone: uuid.UUID, now: datetime) -> None:
    memberships = (
        await session.execute(
            select(members.c.id, members.c.programme_id)
            .where(members.c.customer_id == gone, members.c.status != "merged")
            .order_by(members.c.id)
        )
    ).all()
    for member_id, programme_id in memberships:
        target = (
            await session.execute(
                select(members.c.id).where(members.c.customer_id == survivor, members.c.programme_id == programme_id)
            )
        ).scalar()
        if target is None:
            await session.execute(
                update(members)
                .where(members.c.id == member_id)
                .values(customer_id=survivor, version=members.c.version + 1, updated_at=func.now())
            )
            continue
        # Lock both in id order, so two merges touching the same members cannot deadlock.
        first, second = sorted([member_id, target])
        locked = {m.id: m for m in [await locked_member(session, first), await locked_member(session, second)]}
        source, into = locked[member_id], locked[target]
        await session.execute(update(ledger).where(ledger.c.member_id == source.id).values(member_id=into.id))
        await session.execute(update(orders).where(orders.c.member_id == source.id).values(member_id=into.id))
        into.balance += source.balance
        into.debt += source.debt
        await session.execute(
            update(members)
            .where(members.c.id == source.id)
            .values(
                status="merged",
                merged_into=into.id,
                balance=0,
                debt=0,
                card_number=None,
                version=members.c.version + 1,
                updated_at=func.now(),
            )
        )
        await reevaluate_tier(session, into, await programme_row(session, programme_id), now)
        await save(session, into)
    await session.execute(update(coupons).where(coupons.c.customer_id == gone).values(customer_id=survivor))


async def erased(session: AsyncSession, customer_id: uuid.UUID, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    member_ids = (
        (
            await session.execute(
                update(members)
                .where(members.c.customer_id == customer_id)
                .values(
                    card_number=None,
                    birth_month=None,
                    status="erased",
                    version=members.c.version + 1,
                    updated_at=func.now(),
                )
                .returning(members.c.id)
            )
        )
        .scalars()
        .all()
    )
    if member_ids:
        await session.execute(
            update(ledger)
            .where(ledger.c.member_id.in_(member_ids), ledger.c.reason.is_not(None))
            .values(reason="(erased)")
        )
    revoked = (
        await session.execute(
            update(coupons)
            .where(coupons.c.customer_id == customer_id, coupons.c.status == "active")
            .values(status="revoked", revoked_at=now, version=coupons.c.version + 1)
            .returning(coupons.c.id, coupons.c.code)
        )
    ).all()
    for coupon_id, code in revoked:
        await outbox.add(
            session, CouponRevokedV1(coupon_id=coupon_id, code=code, customer_id=customer_id, revoked_at=now)
        )


async def birthday(session: AsyncSession, customer_id: uuid.UUID, month: int) -> None:
    await session.execute(
        update(members)
        .where(members.c.customer_id == customer_id, members.c.status != "erased")
        .values(birth_month=month)
    )


async def segment_joined(session: AsyncSession, customer_id: uuid.UUID, segment_id: uuid.UUID) -> None:
    await session.execute(
        insert(segment_members).values(customer_id=customer_id, segment_id=segment_id).on_conflict_do_nothing()
    )


async def segment_left(session: AsyncSession, customer_id: uuid.UUID, segment_id: uuid.UUID) -> None:
    await session.execute(
        delete(segment_members).where(
            segment_members.c.customer_id == customer_id, segment_members.c.segment_id == segment_id
        )
    )
