"""Members: enrolment, leaving and rejoining, reads (balance, ledger, tier progress) and adjustments.

enrol       the customer must exist (projection, read-through on a miss); one membership
            per programme; a card number; welcome points as a lot spendable at once
leave       active → left: accrual and redemption stop; nothing expires early, lots keep
            their own expiry dates
rejoin      left → active
adjust      an operator's ± points with a reason and the caller's identity
member      balance (member row), available / pending / expiring soon (open lots), tier progress
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events.loyalty import MemberEnrolledV1, MemberLeftV1
from relacja_servicekit.customer_directory import CustomerDirectory, require_customer
from relacja_servicekit.pagination import paginate

from ..domain.cards import new_card_number
from ..domain.earning import expires_at
from ..domain.ledger import available_points, expiring_points, pending_points, plan_debit
from ..domain.tiers import progress
from ..tables import coupons, known_customers, ledger, members
from .errors import AlreadyEnrolled, IllegalTransition, InvalidReference, NotFound
from .events import outbox
from .ledger import add_lot, locked_member, open_lots, save, take
from .programmes import programme_row, rule_set, tiers_of
from .schemas import (
    AdjustmentCreate,
    CouponPublic,
    CustomerLoyalty,
    Enrolment,
    LedgerEntryPublic,
    LedgerPage,
    MemberPublic,
    MembersPublic,
    TierProgressPublic,
)
from .tiers import qualifying_value

__all__ = [
    "MemberQuery",
    "adjust",
    "customer_loyalty",
    "enrol",
    "get_member",
    "ledger_page",
    "list_members",
    "set_status",
]

ALLOWED = {"active": ["leave"], "left": ["rejoin"], "merged": [], "erased": []}


async def enrol(
    session: AsyncSession, body: Enrolment, directory: CustomerDirectory, *, now: datetime | None = None
) -> MemberPublic:
    now = now or datetime.now(UTC)
    try:
        programme = await programme_row(session, body.programme_id)
    except NotFound:
        raise InvalidReference("programme_id", "no such programme") from None
    await require_customer(session, known_customers, directory, body.customer_id, service="loyalty")
    existing = (
        await session.execute(
            select(members.c.id).where(
                members.c.programme_id == body.programme_id, members.c.customer_id == body.customer_id
            )
        )
    ).scalar()
    if existing is not None:
        raise AlreadyEnrolled(existing)
    member_id, card = uuid.uuid4(), new_card_number()
    await session.execute(
        members.insert().values(
            id=member_id,
            programme_id=body.programme_id,
            customer_id=body.customer_id,
            card_number=card,
            status="active",
            enrolled_at=now,
        )
    )
    await outbox.add(
        session,
        MemberEnrolledV1(
            customer_id=body.customer_id,
            member_id=member_id,
            programme_id=body.programme_id,
            card_number=card,
            enrolled_at=now,
        ),
    )
    if programme["welcome_points"] > 0:
        member = await locked_member(session, member_id)
        await add_lot(
            session,
            member,
            programme["welcome_points"],
            now=now,
            spendable_at=now,  # nothing to return: spendable at once
            expires_at=expires_at(rule_set(programme), now),
            rule="welcome",
        )
        await save(session, member)
    return await get_member(session, member_id, now=now)


async def set_status(
    session: AsyncSession, member_id: uuid.UUID, action: str, check_version: Any, *, now: datetime | None = None
) -> MemberPublic:
    now = now or datetime.now(UTC)
    member = await locked_member(session, member_id)
    check_version(member.version)
    if action not in ALLOWED[member.status]:
        raise IllegalTransition(action, member.status, ALLOWED[member.status])
    status, left_at = ("left", now) if action == "leave" else ("active", None)
    await session.execute(
        update(members)
        .where(members.c.id == member_id)
        .values(status=status, left_at=left_at, version=members.c.version + 1, updated_at=func.now())
    )
    if action == "leave":
        await outbox.add(
            session,
            MemberLeftV1(
                customer_id=member.customer_id, member_id=member.id, programme_id=member.programme_id, left_at=now
            ),
        )
    else:
        await outbox.add(
            session,
            MemberEnrolledV1(
                customer_id=member.customer_id,
                member_id=member.id,
                programme_id=member.programme_id,
                card_number=await _card(session, member.id),
                enrolled_at=now,
            ),
        )
    return await get_member(session, member_id, now=now)


async def _card(session: AsyncSession, member_id: uuid.UUID) -> str:
    return str((await session.execute(select(members.c.card_number).where(members.c.id == member_id))).scalar())


async def adjust(
    session: AsyncSession,
    member_id: uuid.UUID,
    body: AdjustmentCreate,
    actor: str,
    *,
    now: datetime | None = None,
) -> tuple[LedgerEntryPublic, MemberPublic]:
    now = now or datetime.now(UTC)
    member = await locked_member(session, member_id)
    if member.status in ("merged", "erased"):
        raise IllegalTransition("adjust", member.status, ALLOWED[member.status])
    programme = await programme_row(session, member.programme_id)
    if body.points > 0:
        entry_id = await add_lot(
            session,
            member,
            body.points,
            now=now,
            spendable_at=now,
            expires_at=expires_at(rule_set(programme), now),
            reason=body.reason,
            actor=actor,
        )
    else:
        lots = await open_lots(session, member.id)
        takes = plan_debit(lots, member.debt, -body.points, now)
        entry_id = await take(session, member, "adjust", -body.points, takes, now=now, reason=body.reason, actor=actor)
    await save(session, member)
    return await entry(session, entry_id), await get_member(session, member_id, now=now)


async def entry(session: AsyncSession, entry_id: uuid.UUID) -> LedgerEntryPublic:
    row = (await session.execute(select(ledger).where(ledger.c.id == entry_id))).first()
    return LedgerEntryPublic.from_row(row)


async def _member_public(session: AsyncSession, row: RowMapping, programme: RowMapping, now: datetime) -> MemberPublic:
    lots = await open_lots(session, row["id"])
    value = await qualifying_value(session, row["id"], programme, now)
    ahead = progress(tiers_of(programme), row["tier"], value)
    return MemberPublic(
        id=row["id"],
        programme_id=row["programme_id"],
        customer_id=row["customer_id"],
        card_number=row["card_number"],
        status=row["status"],
        enrolled_at=row["enrolled_at"],
        left_at=row["left_at"],
        balance=row["balance"],
        available=available_points(lots, row["debt"], now),
        pending=pending_points(lots, now),
        expiring_soon=expiring_points(lots, now, timedelta(days=programme["expiring_soon_days"])),
        debt=row["debt"],
        tier=row["tier"],
        tier_downgrade_pending_since=row["tier_below_since"],
        progress=TierProgressPublic(
            basis=programme["tier_basis"],
            window_months=programme["tier_window_months"],
            qualifying_value=value,
            next_tier=ahead.next_tier,
            missing=ahead.missing,
        ),
        version=row["version"],
    )


async def get_member(session: AsyncSession, member_id: uuid.UUID, *, now: datetime | None = None) -> MemberPublic:
    row = (await session.execute(select(members).where(members.c.id == member_id))).mappings().first()
    if row is None:
        raise NotFound("Member", member_id)
    programme = await programme_row(session, row["programme_id"])
    return await _member_public(session, row, programme, now or datetime.now(UTC))


@dataclass(frozen=True)
class MemberQuery:
    customer_id: uuid.UUID | None = None
    programme_id: uuid.UUID | None = None
    card_number: str | None = None


async def list_members(session: AsyncSession, query: MemberQuery, *, limit: int, cursor: str | None) -> MembersPublic:
    conditions = [
        column == value
        for column, value in (
            (members.c.customer_id, query.customer_id),
            (members.c.programme_id, query.programme_id),
            (members.c.card_number, query.card_number),
        )
        if value is not None
    ]
    page = await paginate(
        session,
        select(members.c.id, members.c.created_at).where(and_(True, *conditions)),
        keys=[members.c.created_at, members.c.id],
        limit=limit,
        cursor=cursor,
        to_item=lambda row: row.id,
    )
    now = datetime.now(UTC)
    return MembersPublic(
        items=[await get_member(session, member_id, now=now) for member_id in page.items], next_cursor=page.next_cursor
    )


async def ledger_page(session: AsyncSession, member_id: uuid.UUID, *, limit: int, cursor: str | None) -> LedgerPage:
    """Newest first, keyed by the ledger's sequence (stable under inserts)."""
    exists = (await session.execute(select(members.c.id).where(members.c.id == member_id))).scalar()
    if exists is None:
        raise NotFound("Member", member_id)
    page = await paginate(
        session,
        select(ledger).where(ledger.c.member_id == member_id),
        keys=[ledger.c.seq],
        limit=limit,
        cursor=cursor,
        descending=True,
        to_item=LedgerEntryPublic.from_row,
    )
    return LedgerPage(items=page.items, next_cursor=page.next_cursor)


async def customer_loyalty(session: AsyncSession, customer_id: uuid.UUID) -> CustomerLoyalty:
    """The customer-360 part: memberships and usable personal coupons. 404 when there is neither."""
    now = datetime.now(UTC)
    member_ids = (
        await session.execute(
            select(members.c.id).where(members.c.customer_id == customer_id).order_by(members.c.enrolled_at)
        )
    ).scalars()
    memberships = [await get_member(session, member_id, now=now) for member_id in member_ids]
    rows = (
        await session.execute(
            select(coupons)
            .where(
                coupons.c.customer_id == customer_id,
                coupons.c.status == "active",
                coupons.c.uses < coupons.c.max_uses,
            )
            .order_by(coupons.c.issued_at)
            .limit(100)
        )
    ).all()
    if not memberships and not rows:
        raise NotFound("Customer", customer_id)
    return CustomerLoyalty(
        customer_id=customer_id, memberships=memberships, active_coupons=[CouponPublic.from_row(r) for r in rows]
    )
