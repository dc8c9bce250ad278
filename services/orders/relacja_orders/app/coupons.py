"""Coupons: the projection of the loyalty service's coupons, and their uses by orders.

    find_coupon(session, code)           → domain Coupon; CouponRejected("unknown")
    redeem(session, coupon)              one use more, under the row's lock; CouponRejected("used_up" | "revoked")
    release(session, coupon_id)          a cancelled order gives its use back
    project_issued / project_revoked     the consumer's writes (``consumers.py``, relacja.loyalty)
    rekey_to_survivor(session, ...)      a merged customer's personal coupons become the survivor's

Why the uses are counted here and not by the loyalty service: the order and its coupon's
use must commit together (issue #14: "redeems the coupon in the same transaction as the
order"), and only this database holds the order. Redemption is one conditional UPDATE
(``uses < max_uses``) at the end of placing the order: PostgreSQL locks the row, and a
second order racing for the last use waits for the first to commit, re-reads the row
(READ COMMITTED re-evaluates the WHERE on the new version) and finds it used up — exactly
one wins. The lock is held until the order commits, so orders racing for one coupon
queue on it; orders with different coupons do not meet. The loyalty service learns each
use from ``OrderPlacedV1.coupon_code`` and each release from ``OrderCancelledV1``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events.loyalty import CouponIssuedV1

from ..domain.coupons import Coupon, CouponRejected, used_up_detail
from ..tables import coupons

__all__ = ["find_coupon", "redeem", "release", "project_issued", "project_revoked", "rekey_to_survivor"]

# The checkout's statements, built once: building one per request (where/values coercion)
# costs SQLAlchemy about a millisecond of CPU each, more than PostgreSQL spends on them.
_FIND = select(coupons).where(coupons.c.code_key == bindparam("code_key"))
_REDEEM = (
    update(coupons)
    .where(
        coupons.c.coupon_id == bindparam("id"),
        coupons.c.uses < coupons.c.max_uses,
        coupons.c.revoked_at.is_(None),
    )
    .values(uses=coupons.c.uses + 1, updated_at=bindparam("now"))
    .returning(coupons.c.uses)
)
_REVOKED_AT = select(coupons.c.revoked_at).where(coupons.c.coupon_id == bindparam("id"))
_RELEASE = (
    update(coupons)
    .where(coupons.c.coupon_id == bindparam("id"), coupons.c.uses > 0)
    .values(uses=coupons.c.uses - 1, updated_at=bindparam("now"))
)


def _coupon(row: Any) -> Coupon:
    return Coupon(
        coupon_id=row.coupon_id,
        code=row.code,
        discount_kind=row.discount_kind,
        discount_value=row.discount_value,
        currency=row.currency,
        applies_to=row.applies_to,
        product_id=row.product_id,
        category=row.category,
        minimum_order_value=row.minimum_order_value,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        max_uses=row.max_uses,
        uses=row.uses,
        customer_id=row.customer_id,
        combinable=row.combinable,
        revoked=row.revoked_at is not None,
    )


async def find_coupon(session: AsyncSession, code: str) -> Coupon:
    """The coupon with this code (case-insensitive); ``unknown`` when the projection has none."""
    row = (await session.execute(_FIND, {"code_key": code.upper()})).first()
    if row is None:
        raise CouponRejected(
            "unknown",
            code,
            f"No coupon {code} is known (a coupon issued a moment ago may need a few seconds to arrive).",
        )
    return _coupon(row)


async def redeem(session: AsyncSession, coupon: Coupon, now: datetime) -> None:
    """Count one use of ``coupon`` in the caller's transaction, or refuse when none is left."""
    used = (await session.execute(_REDEEM, {"id": coupon.coupon_id, "now": now})).first()
    if used is None:
        # Another order took the last use (or the coupon was revoked) since it was read.
        revoked = (await session.execute(_REVOKED_AT, {"id": coupon.coupon_id})).scalar_one_or_none()
        if revoked is not None:
            raise CouponRejected("revoked", coupon.code, f"Coupon {coupon.code} was revoked.")
        raise CouponRejected("used_up", coupon.code, used_up_detail(coupon.code, coupon.max_uses))


async def release(session: AsyncSession, coupon_id: uuid.UUID, now: datetime) -> None:
    """Give back the use a cancelled order made (a coupon's uses are its orders not cancelled)."""
    await session.execute(_RELEASE, {"id": coupon_id, "now": now})


async def project_issued(session: AsyncSession, payload: CouponIssuedV1) -> None:
    """A new coupon; a second issue of the same id (or code) changes nothing: an issued
    coupon's terms are fixed, and the loyalty service keeps codes unique."""
    values = payload.model_dump(
        include={
            "coupon_id",
            "code",
            "offer_id",
            "discount_kind",
            "discount_value",
            "currency",
            "applies_to",
            "product_id",
            "category",
            "minimum_order_value",
            "valid_from",
            "valid_until",
            "max_uses",
            "customer_id",
            "combinable",
            "issued_at",
        }
    )
    statement = insert(coupons).values(**values, code_key=payload.code.upper()).on_conflict_do_nothing()
    await session.execute(statement)


async def project_revoked(session: AsyncSession, coupon_id: uuid.UUID, revoked_at: datetime) -> None:
    await session.execute(
        update(coupons)
        .where(coupons.c.coupon_id == coupon_id, coupons.c.revoked_at.is_(None))
        .values(revoked_at=revoked_at, updated_at=func.now())
    )


async def rekey_to_survivor(session: AsyncSession, survivor: uuid.UUID, merged: uuid.UUID) -> None:
    await session.execute(
        update(coupons).where(coupons.c.customer_id == merged).values(customer_id=survivor, updated_at=func.now())
    )
