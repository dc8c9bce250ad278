"""Programmes: create, read, list; and a programme row as the domain's rules and tiers."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_servicekit.pagination import paginate

from ..domain.earning import RuleSet
from ..domain.tiers import Tier
from ..tables import programmes
from .errors import InvalidReference, NotFound
from .schemas import ProgrammeCreate, ProgrammePublic, ProgrammesPublic

__all__ = ["create_programme", "get_programme", "list_programmes", "rule_set", "tiers_of"]


async def create_programme(session: AsyncSession, body: ProgrammeCreate) -> ProgrammePublic:
    if body.expiry_policy == "after_months" and body.expiry_months is None:
        raise InvalidReference("expiry_months", "after_months needs expiry_months", type_="validation-error")
    names = [tier.name for tier in body.tiers]
    if len(set(names)) != len(names):
        raise InvalidReference("tiers", "tier names are unique", type_="validation-error")
    if len({tier.threshold for tier in body.tiers}) != len(body.tiers):
        raise InvalidReference("tiers", "tier thresholds are distinct", type_="validation-error")
    values: dict[str, Any] = body.model_dump(mode="json")
    for name in ("points_per_unit", "birthday_multiplier", "order_bonus_threshold", "point_value"):
        values[name] = getattr(body, name)
    row = (
        (await session.execute(programmes.insert().values(id=uuid.uuid4(), **values).returning(programmes)))
        .mappings()
        .one()
    )
    return ProgrammePublic.model_validate(dict(row))


# Programmes are never changed after creation (no edit route; a new rule set is a new
# programme), so a row once read is kept: accrual reads the programme of every paid order.
_ROWS: dict[uuid.UUID, RowMapping] = {}


async def programme_row(session: AsyncSession, programme_id: uuid.UUID) -> RowMapping:
    if (cached := _ROWS.get(programme_id)) is not None:
        return cached
    row = (await session.execute(select(programmes).where(programmes.c.id == programme_id))).mappings().first()
    if row is None:
        raise NotFound("Programme", programme_id)
    if len(_ROWS) < 10_000:
        _ROWS[programme_id] = row
    return row


async def get_programme(session: AsyncSession, programme_id: uuid.UUID) -> ProgrammePublic:
    return ProgrammePublic.model_validate(dict(await programme_row(session, programme_id)))


async def list_programmes(session: AsyncSession, *, limit: int, cursor: str | None) -> ProgrammesPublic:
    page = await paginate(
        session,
        select(programmes),
        keys=[programmes.c.created_at, programmes.c.id],
        limit=limit,
        cursor=cursor,
        to_item=lambda row: ProgrammePublic.model_validate(dict(row._mapping)),
    )
    return ProgrammesPublic(items=page.items, next_cursor=page.next_cursor)


def rule_set(programme: RowMapping) -> RuleSet:
    return RuleSet(
        points_per_unit=programme["points_per_unit"],
        category_multipliers={name: Decimal(value) for name, value in programme["category_multipliers"].items()},
        welcome_points=programme["welcome_points"],
        birthday_multiplier=programme["birthday_multiplier"],
        order_bonus_threshold=programme["order_bonus_threshold"],
        order_bonus_points=programme["order_bonus_points"],
        pending_period=timedelta(seconds=programme["pending_period_seconds"]),
        expiry_policy=programme["expiry_policy"],
        expiry_months=programme["expiry_months"],
    )


def tiers_of(programme: RowMapping) -> list[Tier]:
    return [
        Tier(tier["name"], Decimal(tier["threshold"]), Decimal(tier.get("multiplier", "1")))
        for tier in programme["tiers"]
    ]
