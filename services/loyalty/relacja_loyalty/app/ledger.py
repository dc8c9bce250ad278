"""Writing the ledger: every change of a member's points goes through here.

    locked_member(session, id)   the member row, locked (FOR UPDATE) for the transaction:
                                 two changes of one member's points run one after the other,
                                 so two redemptions the balance covers once cannot both pass
    open_lots(session, member)   the member's lots with points remaining (a partial index)
    add_lot(...)                 earn / positive adjust: settles debt first, opens a lot
    take(...)                    redeem / negative adjust / expire / reverse: the domain's
                                 plan applied to the lots, one entry written
    save(session, member)        the member's balance, debt and tier, in the same transaction

The balance on the member row is kept equal to the sum of the ledger in every transaction
(the integration tests check ``balance = sum(points)``); it makes a balance read one
primary-key lookup at any ledger size. Each write emits its event through the outbox.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events.loyalty import (
    PointsAdjustedV1,
    PointsEarnedV1,
    PointsExpiredV1,
    PointsRedeemedV1,
    PointsReversedV1,
)

from ..domain.earning import EarnRule
from ..domain.ledger import Lot, Take, settle_debt
from ..tables import ledger, members, programmes
from .errors import NotFound
from .events import outbox

__all__ = ["MemberState", "add_lot", "locked_earning_member", "locked_member", "open_lots", "save", "take"]


@dataclass
class MemberState:
    id: uuid.UUID
    programme_id: uuid.UUID
    customer_id: uuid.UUID
    status: str
    balance: int
    debt: int
    tier: str | None
    tier_below_since: datetime | None
    birth_month: int | None
    enrolled_at: datetime
    version: int


_STATE = select(
    members.c.id,
    members.c.programme_id,
    members.c.customer_id,
    members.c.status,
    members.c.balance,
    members.c.debt,
    members.c.tier,
    members.c.tier_below_since,
    members.c.birth_month,
    members.c.enrolled_at,
    members.c.version,
)


async def _locked(session: AsyncSession, query: Select[Any]) -> MemberState | None:
    row = (await session.execute(query.with_for_update(of=members))).mappings().first()
    return None if row is None else MemberState(**row)


async def locked_member(session: AsyncSession, member_id: uuid.UUID) -> MemberState:
    member = await _locked(session, _STATE.where(members.c.id == member_id))
    if member is None:
        raise NotFound("Member", member_id)
    return member


async def locked_earning_member(
    session: AsyncSession, customer_id: uuid.UUID, currency: str, at: datetime
) -> MemberState | None:
    """The customer's active membership (enrolled by ``at``) of the programme in ``currency``, locked."""
    query = (
        _STATE.select_from(members.join(programmes, programmes.c.id == members.c.programme_id))
        .where(
            members.c.customer_id == customer_id,
            members.c.status == "active",
            programmes.c.currency == currency,
            members.c.enrolled_at <= at,
        )
        .order_by(members.c.enrolled_at)
        .limit(1)
    )
    return await _locked(session, query)


async def save(session: AsyncSession, member: MemberState) -> None:
    member.version += 1
    await session.execute(
        update(members)
        .where(members.c.id == member.id)
        .values(
            balance=member.balance,
            debt=member.debt,
            tier=member.tier,
            tier_below_since=member.tier_below_since,
            version=member.version,
            updated_at=func.now(),
        )
    )


async def open_lots(session: AsyncSession, member_id: uuid.UUID, *, order_id: uuid.UUID | None = None) -> list[Lot]:
    query = select(
        ledger.c.id,
        ledger.c.points,
        ledger.c.remaining,
        ledger.c.occurred_at,
        ledger.c.spendable_at,
        ledger.c.expires_at,
        ledger.c.order_id,
    ).where(ledger.c.member_id == member_id, ledger.c.remaining > 0)
    if order_id is not None:
        query = query.where(ledger.c.order_id == order_id)
    return [Lot(*row) for row in (await session.execute(query)).all()]


def _event_fields(member: MemberState, entry_id: uuid.UUID, points: int, now: datetime) -> dict[str, Any]:
    return {
        "customer_id": member.customer_id,
        "member_id": member.id,
        "programme_id": member.programme_id,
        "entry_id": entry_id,
        "points": points,
        "balance": member.balance,
        "occurred_at": now,
    }


async def add_lot(
    session: AsyncSession,
    member: MemberState,
    points: int,
    *,
    now: datetime,
    spendable_at: datetime,
    expires_at: datetime | None,
    rule: EarnRule | None = None,
    order_id: uuid.UUID | None = None,
    reason: str | None = None,
    actor: str | None = None,
) -> uuid.UUID:
    """An earn (``rule`` given) or a positive adjustment (``reason`` given): a new lot."""
    settled, remaining = settle_debt(member.debt, points)
    member.debt -= settled
    member.balance += points
    entry_id = uuid.uuid4()
    await session.execute(
        ledger.insert().values(
            id=entry_id,
            member_id=member.id,
            kind="earn" if rule else "adjust",
            points=points,
            rule=rule,
            order_id=order_id,
            remaining=remaining,
            spendable_at=spendable_at,
            expires_at=expires_at,
            debt=settled,
            reason=reason,
            actor=actor,
            occurred_at=now,
        )
    )
    fields = _event_fields(member, entry_id, points, now)
    if rule:
        await outbox.add(
            session,
            PointsEarnedV1(
                **fields,
                rule=rule,
                order_id=order_id,
                spendable_at=spendable_at,
                expires_at=expires_at,
                settled_debt=settled,
            ),
        )
    else:
        await outbox.add(session, PointsAdjustedV1(**fields, reason=reason or "", actor=actor or "unknown"))
    return entry_id


_TAKE = (
    update(ledger)
    .where(ledger.c.id == bindparam("lot"))
    .values(remaining=ledger.c.remaining - bindparam("taken", type_=ledger.c.remaining.type))
)


async def take(
    session: AsyncSession,
    member: MemberState,
    kind: str,
    points: int,
    takes: list[Take],
    *,
    now: datetime,
    debt: int = 0,
    order_id: uuid.UUID | None = None,
    cause: str | None = None,
    reward_id: uuid.UUID | None = None,
    coupon_id: uuid.UUID | None = None,
    reason: str | None = None,
    actor: str | None = None,
) -> uuid.UUID:
    """Points leave the ledger: ``takes`` applied to the lots, one entry of ``-points``."""
    if takes:
        # Core's executemany form: one statement, a parameter set per lot.
        await session.execute(_TAKE, [{"lot": t.lot_id, "taken": t.points} for t in takes])
    member.balance -= points
    member.debt += debt
    entry_id = uuid.uuid4()
    await session.execute(
        ledger.insert().values(
            id=entry_id,
            member_id=member.id,
            kind=kind,
            points=-points,
            order_id=order_id,
            debt=debt,
            takes=[[str(t.lot_id), t.points] for t in takes],
            reward_id=reward_id,
            coupon_id=coupon_id,
            reason=reason,
            actor=actor,
            occurred_at=now,
        )
    )
    fields = _event_fields(member, entry_id, points, now)
    if kind == "redeem":
        assert reward_id is not None and coupon_id is not None
        await outbox.add(session, PointsRedeemedV1(**fields, reward_id=reward_id, coupon_id=coupon_id))
    elif kind == "reverse":
        assert order_id is not None
        await outbox.add(session, PointsReversedV1(**fields, order_id=order_id, cause=cause or "return", debt=debt))
    elif kind == "expire":
        await outbox.add(session, PointsExpiredV1(**fields, lot_id=takes[0].lot_id))
    else:
        fields["points"] = -points
        await outbox.add(session, PointsAdjustedV1(**fields, reason=reason or "", actor=actor or "unknown"))
    return entry_id
