"""Partners: create, read, list, change, suspend and resume.

A partner gets its pseudonym key at creation (``domain.identifiers.new_pads``); it never
changes, so the identifiers a partner was given stay valid for as long as it exists.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_servicekit.pagination import Page, paginate

from ..domain.identifiers import new_pads
from ..domain.partners import next_partner_status
from ..tables import partners
from .errors import NotFound
from .schemas import PartnerCreate, PartnerPublic

__all__ = ["change_partner_status", "create_partner", "get_partner", "list_partners", "update_partner"]

_PUBLIC = [c for c in partners.c if not c.name.startswith("pseudonym_")]


async def create_partner(session: AsyncSession, body: PartnerCreate) -> PartnerPublic:
    pads = new_pads()
    row = (
        await session.execute(
            insert(partners)
            .values(
                id=uuid.uuid4(),
                legal_name=body.legal_name,
                contacts=[c.model_dump(mode="json") for c in body.contacts],
                status="active",
                pseudonym_ipad=pads.ipad,
                pseudonym_opad=pads.opad,
                version=1,
            )
            .returning(*_PUBLIC)
        )
    ).one()
    return PartnerPublic.from_row(row)


async def get_partner(session: AsyncSession, partner_id: uuid.UUID, *, for_update: bool = False) -> Row[Any]:
    query = select(*_PUBLIC).where(partners.c.id == partner_id)
    row = (await session.execute(query.with_for_update() if for_update else query)).one_or_none()
    if row is None:
        raise NotFound("Partner", partner_id)
    return row


async def list_partners(
    session: AsyncSession, *, status: str | None, limit: int, cursor: str | None
) -> Page[PartnerPublic]:
    query = select(*_PUBLIC)
    if status is not None:
        query = query.where(partners.c.status == status)
    return await paginate(
        session,
        query,
        keys=[partners.c.created_at, partners.c.id],
        limit=limit,
        cursor=cursor,
        to_item=PartnerPublic.from_row,
    )


async def update_partner(session: AsyncSession, row: Row[Any], changes: dict[str, Any]) -> PartnerPublic:
    values = {k: v for k, v in changes.items() if v is not None}
    return await _write(session, row, values)


async def change_partner_status(session: AsyncSession, row: Row[Any], action: str) -> PartnerPublic:
    return await _write(session, row, {"status": next_partner_status(row.status, action)})


async def _write(session: AsyncSession, row: Row[Any], values: dict[str, Any]) -> PartnerPublic:
    new = (
        await session.execute(
            update(partners)
            .where(partners.c.id == row.id)
            .values(**values, version=partners.c.version + 1, updated_at=func.now())
            .returning(*_PUBLIC)
        )
    ).one()
    return PartnerPublic.from_row(new)
