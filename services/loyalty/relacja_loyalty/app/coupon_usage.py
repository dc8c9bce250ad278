"""Coupon bookkeeping from the orders' events: the orders service decides at checkout (in
its own transaction, from its projection of CouponIssuedV1); the loyalty service counts.

    used(OrderPlacedV1 with coupon_code)   a use recorded per (coupon, order) → CouponRedeemedV1
    released(OrderCancelledV1)             the order's use given back → CouponReleasedV1

One row per (coupon, order) in ``loyalty_coupon_uses`` makes both idempotent under
redelivery: a second delivery finds the row (or its ``released_at``) and changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events.loyalty import CouponRedeemedV1, CouponReleasedV1

from ..domain.coupons import normalise_code
from ..tables import coupon_uses, coupons
from .events import outbox

__all__ = ["released", "used"]


async def used(session: AsyncSession, code: str, order_id: uuid.UUID, customer_id: uuid.UUID, at: datetime) -> bool:
    coupon = (
        (await session.execute(select(coupons).where(coupons.c.code == normalise_code(code)).with_for_update()))
        .mappings()
        .first()
    )
    if coupon is None:
        return False  # the orders service refuses unknown codes; nothing of ours to count
    claimed = await session.execute(
        insert(coupon_uses)
        .values(coupon_id=coupon["id"], order_id=order_id, customer_id=customer_id, used_at=at)
        .on_conflict_do_nothing(index_elements=["coupon_id", "order_id"])
        .returning(coupon_uses.c.order_id)
    )
    if claimed.first() is None:
        return False
    uses = coupon["uses"] + 1
    await session.execute(
        update(coupons).where(coupons.c.id == coupon["id"]).values(uses=uses, version=coupons.c.version + 1)
    )
    await outbox.add(
        session,
        CouponRedeemedV1(
            coupon_id=coupon["id"],
            code=coupon["code"],
            customer_id=coupon["customer_id"],
            order_id=order_id,
            order_customer_id=customer_id,
            uses=uses,
            occurred_at=at,
        ),
    )
    return True


async def released(session: AsyncSession, order_id: uuid.UUID, at: datetime) -> int:
    rows = (
        await session.execute(
            update(coupon_uses)
            .where(coupon_uses.c.order_id == order_id, coupon_uses.c.released_at.is_(None))
            .values(released_at=at)
            .returning(coupon_uses.c.coupon_id, coupon_uses.c.customer_id)
        )
    ).all()
    for coupon_id, customer_id in rows:
        coupon = (
            await session.execute(
                update(coupons)
                .where(coupons.c.id == coupon_id)
                .values(uses=coupons.c.uses - 1, version=coupons.c.version + 1)
                .returning(coupons.c.code, coupons.c.customer_id, coupons.c.uses)
            )
        ).one()
        await outbox.add(
            session,
            CouponReleasedV1(
                coupon_id=coupon_id,
                code=coupon.code,
                customer_id=coupon.customer_id,
                order_id=order_id,
                order_customer_id=customer_id,
                uses=coupon.uses,
                occurred_at=at,
            ),
        )
    return len(rows)
