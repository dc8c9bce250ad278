"""Offers, rewards and coupons: the catalogue, issuing and revoking coupons, and redeeming
points for a reward.

    create_offer      the offer's rules checked (``domain.coupons.check_offer``): a field named
    create_reward     points → a coupon of an offer; optionally for one tier only
    issue_coupons     1–1,000 codes of an offer: public or personal (an audience-limited offer
                      issues personal coupons only, to customers in its segment or tier);
                      also the route other services use (engagement's birthday coupons)
    revoke_coupon     active → revoked (CouponRevokedV1: checkout refuses it from then on)
    redeem            points for a reward, with the member row locked: exactly one of two
                      redemptions the balance covers once succeeds, the other is 409

Every coupon written is announced with CouponIssuedV1 (the orders service projects them).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events.loyalty import CouponIssuedV1, CouponRevokedV1
from relacja_servicekit.pagination import paginate

from ..domain.coupons import check_offer, new_code, normalise_code
from ..domain.ledger import plan_redemption
from ..tables import coupons, members, offers, rewards, segment_members
from .errors import IllegalTransition, InvalidReference, NotFound, RewardNotAvailable
from .events import outbox
from .ledger import locked_member, open_lots, save, take
from .members import entry, get_member
from .programmes import programme_row
from .schemas import (
    CouponPublic,
    CouponsIssue,
    CouponsPublic,
    OfferCreate,
    OfferPublic,
    OffersPublic,
    RedemptionCreate,
    RedemptionPublic,
    RewardCreate,
    RewardPublic,
    RewardsPublic,
)

__all__ = [
    "CouponQuery",
    "create_offer",
    "create_reward",
    "get_coupon",
    "get_offer",
    "get_reward",
    "issue_coupons",
    "list_coupons",
    "list_offers",
    "list_rewards",
    "redeem",
    "revoke_coupon",
]


async def create_offer(session: AsyncSession, body: OfferCreate) -> OfferPublic:
    check_offer(
        discount_kind=body.discount_kind,
        discount_value=body.discount_value,
        currency=body.currency,
        applies_to=body.applies_to,
        product_id=body.product_id,
        category=body.category,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        audience=body.audience,
        segment_id=body.segment_id,
        tier=body.tier,
    )
    row = (
        (await session.execute(offers.insert().values(id=uuid.uuid4(), **body.model_dump()).returning(offers)))
        .mappings()
        .one()
    )
    return OfferPublic.model_validate(dict(row))


async def _offer_row(session: AsyncSession, offer_id: uuid.UUID, *, field: str | None = None) -> RowMapping:
    row = (await session.execute(select(offers).where(offers.c.id == offer_id))).mappings().first()
    if row is None:
        if field:
            raise InvalidReference(field, "no such offer")
        raise NotFound("Offer", offer_id)
    return row


async def get_offer(session: AsyncSession, offer_id: uuid.UUID) -> OfferPublic:
    return OfferPublic.model_validate(dict(await _offer_row(session, offer_id)))


async def list_offers(session: AsyncSession, *, limit: int, cursor: str | None) -> OffersPublic:
    page = await paginate(
        session,
        select(offers),
        keys=[offers.c.created_at, offers.c.id],
        limit=limit,
        cursor=cursor,
        to_item=OfferPublic.from_row,
    )
    return OffersPublic(items=page.items, next_cursor=page.next_cursor)


async def create_reward(session: AsyncSession, body: RewardCreate) -> RewardPublic:
    try:
        programme = await programme_row(session, body.programme_id)
    except NotFound:
        raise InvalidReference("programme_id", "no such programme") from None
    await _offer_row(session, body.offer_id, field="offer_id")
    if body.tier is not None and body.tier not in {tier["name"] for tier in programme["tiers"]}:
        raise InvalidReference("tier", "the programme has no such tier")
    row = (
        (await session.execute(rewards.insert().values(id=uuid.uuid4(), **body.model_dump()).returning(rewards)))
        .mappings()
        .one()
    )
    return RewardPublic.model_validate(dict(row))


async def get_reward(session: AsyncSession, reward_id: uuid.UUID) -> RewardPublic:
    row = (await session.execute(select(rewards).where(rewards.c.id == reward_id))).first()
    if row is None:
        raise NotFound("Reward", reward_id)
    return RewardPublic.from_row(row)


async def list_rewards(
    session: AsyncSession, programme_id: uuid.UUID | None, *, limit: int, cursor: str | None
) -> RewardsPublic:
    query = select(rewards)
    if programme_id is not None:
        query = query.where(rewards.c.programme_id == programme_id)
    page = await paginate(
        session,
        query,
        keys=[rewards.c.created_at, rewards.c.id],
        limit=limit,
        cursor=cursor,
        to_item=RewardPublic.from_row,
    )
    return RewardsPublic(items=page.items, next_cursor=page.next_cursor)


def _issued_event(offer: RowMapping, coupon: RowMapping) -> CouponIssuedV1:
    return CouponIssuedV1(
        coupon_id=coupon["id"],
        code=coupon["code"],
        customer_id=coupon["customer_id"],
        offer_id=offer["id"],
        discount_kind=offer["discount_kind"],
        discount_value=offer["discount_value"],
        currency=offer["currency"],
        applies_to=offer["applies_to"],
        product_id=offer["product_id"],
        category=offer["category"],
        minimum_order_value=offer["minimum_order_value"],
        valid_from=coupon["valid_from"],
        valid_until=coupon["valid_until"],
        max_uses=coupon["max_uses"],
        combinable=offer["combinable"],
        issued_at=coupon["issued_at"],
    )


async def _check_audience(session: AsyncSession, offer: RowMapping, customer_id: uuid.UUID | None) -> None:
    if offer["audience"] == "everyone":
        return
    if customer_id is None:
        raise InvalidReference("customer_id", f"an offer for a {offer['audience']} issues personal coupons only")
    if offer["audience"] == "segment":
        found = await session.execute(
            select(segment_members.c.customer_id).where(
                segment_members.c.customer_id == customer_id, segment_members.c.segment_id == offer["segment_id"]
            )
        )
    else:
        found = await session.execute(
            select(members.c.id).where(
                members.c.customer_id == customer_id, members.c.tier == offer["tier"], members.c.status == "active"
            )
        )
    if found.first() is None:
        raise InvalidReference("customer_id", f"the customer is not in the offer's {offer['audience']}")


async def _write_coupons(
    session: AsyncSession,
    offer: RowMapping,
    *,
    count: int,
    customer_id: uuid.UUID | None,
    max_uses: int,
    valid_from: datetime | None,
    valid_until: datetime | None,
    source: str,
    now: datetime,
) -> list[RowMapping]:
    written: list[RowMapping] = []
    while len(written) < count:
        values = [
            {
                "id": uuid.uuid4(),
                "code": new_code(),
                "offer_id": offer["id"],
                "customer_id": customer_id,
                "max_uses": max_uses,
                "status": "active",
                "source": source,
                "valid_from": valid_from,
                "valid_until": valid_until,
                "issued_at": now,
            }
            for _ in range(count - len(written))
        ]
        # A drawn code that exists already is skipped and drawn again (the unique index decides).
        result = await session.execute(
            insert(coupons).values(values).on_conflict_do_nothing(index_elements=["code"]).returning(coupons)
        )
        written.extend(result.mappings().all())
    await outbox.add_many(session, [_issued_event(offer, coupon) for coupon in written])
    return written


async def issue_coupons(
    session: AsyncSession, offer_id: uuid.UUID, body: CouponsIssue, *, now: datetime | None = None
) -> CouponsPublic:
    now = now or datetime.now(UTC)
    offer = await _offer_row(session, offer_id)
    await _check_audience(session, offer, body.customer_id)
    valid_from = body.valid_from or offer["valid_from"]
    valid_until = body.valid_until or offer["valid_until"]
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        raise InvalidReference("valid_until", "the validity ends after it starts", type_="validation-error")
    rows = await _write_coupons(
        session,
        offer,
        count=body.count,
        customer_id=body.customer_id,
        max_uses=body.max_uses,
        valid_from=valid_from,
        valid_until=valid_until,
        source="bulk" if body.count > 1 or body.customer_id is None else "request",
        now=now,
    )
    return CouponsPublic(items=[CouponPublic.model_validate(dict(row)) for row in rows], next_cursor=None)


async def _coupon_row(session: AsyncSession, ident: str, *, lock: bool = False) -> RowMapping:
    """A coupon by id or by code (as typed: case and dashes do not matter)."""
    try:
        condition = coupons.c.id == uuid.UUID(ident)
    except ValueError:
        condition = coupons.c.code == normalise_code(ident)
    query = select(coupons).where(condition)
    row = (await session.execute(query.with_for_update() if lock else query)).mappings().first()
    if row is None:
        raise NotFound("Coupon", ident)
    return row


async def get_coupon(session: AsyncSession, ident: str) -> CouponPublic:
    return CouponPublic.model_validate(dict(await _coupon_row(session, ident)))


@dataclass(frozen=True)
class CouponQuery:
    customer_id: uuid.UUID | None = None
    offer_id: uuid.UUID | None = None
    status: str | None = None


async def list_coupons(session: AsyncSession, query: CouponQuery, *, limit: int, cursor: str | None) -> CouponsPublic:
    conditions = [
        column == value
        for column, value in (
            (coupons.c.customer_id, query.customer_id),
            (coupons.c.offer_id, query.offer_id),
            (coupons.c.status, query.status),
        )
        if value is not None
    ]
    page = await paginate(
        session,
        select(coupons).where(and_(True, *conditions)),
        keys=[coupons.c.issued_at, coupons.c.id],
        limit=limit,
        cursor=cursor,
        descending=True,
        to_item=CouponPublic.from_row,
    )
    return CouponsPublic(items=page.items, next_cursor=page.next_cursor)


async def revoke_coupon(
    session: AsyncSession, ident: str, check_version: Any, *, now: datetime | None = None
) -> CouponPublic:
    now = now or datetime.now(UTC)
    coupon = await _coupon_row(session, ident, lock=True)
    check_version(coupon["version"])
    if coupon["status"] != "active":
        raise IllegalTransition("revoke", coupon["status"], [])
    row = (
        (
            await session.execute(
                update(coupons)
                .where(coupons.c.id == coupon["id"])
                .values(status="revoked", revoked_at=now, version=coupons.c.version + 1)
                .returning(coupons)
            )
        )
        .mappings()
        .one()
    )
    await outbox.add(
        session, CouponRevokedV1(coupon_id=row["id"], code=row["code"], customer_id=row["customer_id"], revoked_at=now)
    )
    return CouponPublic.model_validate(dict(row))


async def redeem(
    session: AsyncSession, member_id: uuid.UUID, body: RedemptionCreate, *, now: datetime | None = None
) -> RedemptionPublic:
    now = now or datetime.now(UTC)
    member = await locked_member(session, member_id)
    if member.status != "active":
        raise IllegalTransition("redeem", member.status, ["rejoin"] if member.status == "left" else [])
    reward = (await session.execute(select(rewards).where(rewards.c.id == body.reward_id))).mappings().first()
    if reward is None:
        raise InvalidReference("reward_id", "no such reward")
    if reward["programme_id"] != member.programme_id:
        raise RewardNotAvailable("The reward belongs to another programme.")
    if reward["tier"] is not None and reward["tier"] != member.tier:
        raise RewardNotAvailable(f"The reward is for members of the {reward['tier']} tier.")
    lots = await open_lots(session, member.id)
    takes = plan_redemption(lots, member.debt, reward["points_cost"], now)
    offer = await _offer_row(session, reward["offer_id"])
    valid_until = offer["valid_until"]
    if reward["coupon_valid_days"] is not None:
        own_end = now + timedelta(days=reward["coupon_valid_days"])
        valid_until = own_end if valid_until is None else min(valid_until, own_end)
    (coupon,) = await _write_coupons(
        session,
        offer,
        count=1,
        customer_id=member.customer_id,
        max_uses=1,
        valid_from=offer["valid_from"],
        valid_until=valid_until,
        source="reward",
        now=now,
    )
    entry_id = await take(
        session,
        member,
        "redeem",
        reward["points_cost"],
        takes,
        now=now,
        reward_id=reward["id"],
        coupon_id=coupon["id"],
    )
    await save(session, member)
    view = await get_member(session, member.id, now=now)
    return RedemptionPublic(
        entry=await entry(session, entry_id),
        coupon=CouponPublic.model_validate(dict(coupon)),
        balance=view.balance,
        available=view.available,
    )
