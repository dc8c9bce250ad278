"""Agreements: create (draft), read, list, change terms, state actions — each change a new version.

Every write stores the agreement as it then is in ``sharing_agreement_versions`` (who, what
change, the full snapshot): the audit trail, and the terms any disclosure's recorded
version points at. Activation, suspension and termination are announced on
``relacja.sharing`` in the same transaction.

The identifier kind is fixed at creation: partners keep the identifiers they were given.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import AgreementActivatedV1, AgreementSuspendedV1, AgreementTerminatedV1
from relacja_servicekit.pagination import Page, paginate

from ..domain.agreements import check_terms, next_agreement_status
from ..tables import agreement_versions, agreements
from .catalog import TERMS_CATALOG
from .errors import InvalidAgreement, NotFound
from .events import emit
from .partners import get_partner
from .schemas import AgreementCreate, AgreementPublic, AgreementVersionPublic

__all__ = [
    "change_agreement_status",
    "create_agreement",
    "get_agreement",
    "list_agreements",
    "list_versions",
    "update_agreement",
]


async def create_agreement(session: AsyncSession, body: AgreementCreate, *, actor: str | None) -> AgreementPublic:
    await get_partner(session, body.partner_id)
    valid_from = body.valid_from or datetime.now(UTC)
    _check(body.allowed_fields, valid_from, body.valid_until)
    values = body.model_dump() | {"valid_from": valid_from}
    row = (
        await session.execute(
            insert(agreements).values(**values, id=uuid.uuid4(), status="draft", version=1).returning(*agreements.c)
        )
    ).one()
    return await _record(session, row, "created", actor)


async def get_agreement(
    session: AsyncSession, agreement_id: uuid.UUID, *, partner_id: uuid.UUID | None = None, for_update: bool = False
) -> Row[Any]:
    """The agreement; with ``partner_id``, only if it is that partner's (else not found, like a missing one)."""
    query = select(agreements).where(agreements.c.id == agreement_id)
    if partner_id is not None:
        query = query.where(agreements.c.partner_id == partner_id)
    row = (await session.execute(query.with_for_update() if for_update else query)).one_or_none()
    if row is None:
        raise NotFound("Agreement", agreement_id)
    return row


async def list_agreements(
    session: AsyncSession,
    *,
    partner_id: uuid.UUID | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> Page[AgreementPublic]:
    query = select(agreements)
    if partner_id is not None:
        query = query.where(agreements.c.partner_id == partner_id)
    if status is not None:
        query = query.where(agreements.c.status == status)
    return await paginate(
        session,
        query,
        keys=[agreements.c.created_at, agreements.c.id],
        limit=limit,
        cursor=cursor,
        to_item=AgreementPublic.from_row,
    )


async def list_versions(session: AsyncSession, agreement_id: uuid.UUID) -> list[AgreementVersionPublic]:
    rows = await session.execute(
        select(agreement_versions)
        .where(agreement_versions.c.agreement_id == agreement_id)
        .order_by(agreement_versions.c.version)
    )
    return [AgreementVersionPublic.from_row(row) for row in rows]


async def update_agreement(
    session: AsyncSession, row: Row[Any], changes: dict[str, Any], *, actor: str | None
) -> AgreementPublic:
    if row.status == "terminated":
        raise InvalidAgreement([{"field": "status", "message": "a terminated agreement cannot change"}])
    values = {k: v for k, v in changes.items() if v is not None}
    _check(
        values.get("allowed_fields", row.allowed_fields),
        values.get("valid_from", row.valid_from),
        values.get("valid_until", row.valid_until),
    )
    new = await _write(session, row, values)
    return await _record(session, new, "updated", actor)


async def change_agreement_status(
    session: AsyncSession, row: Row[Any], action: str, *, actor: str | None
) -> AgreementPublic:
    status = next_agreement_status(row.status, action)
    new = await _write(session, row, {"status": status})
    public = await _record(session, new, action, actor)
    common = {
        "agreement_id": public.id,
        "partner_id": public.partner_id,
        "version": public.version,
        "purposes": public.purposes,
        "direction": public.direction,
        "legal_basis": public.legal_basis,
        "changed_by": actor,
        "occurred_at": public.updated_at,
    }
    if status == "active":
        await emit(session, AgreementActivatedV1(**common, resumed=action == "resume"))
    elif status == "suspended":
        await emit(session, AgreementSuspendedV1(**common))
    else:
        await emit(session, AgreementTerminatedV1(**common))
    return public


def _check(allowed_fields: dict[str, list[str]], valid_from: datetime, valid_until: datetime | None) -> None:
    if errors := check_terms(allowed_fields, TERMS_CATALOG, valid_from, valid_until):
        raise InvalidAgreement(errors)


async def _write(session: AsyncSession, row: Row[Any], values: dict[str, Any]) -> Row[Any]:
    return (
        await session.execute(
            update(agreements)
            .where(agreements.c.id == row.id)
            .values(**values, version=agreements.c.version + 1, updated_at=func.now())
            .returning(*agreements.c)
        )
    ).one()


async def _record(session: AsyncSession, row: Row[Any], change: str, actor: str | None) -> AgreementPublic:
    public = AgreementPublic.from_row(row)
    await session.execute(
        insert(agreement_versions).values(
            agreement_id=public.id,
            version=public.version,
            change=change,
            snapshot=public.model_dump(mode="json"),
            changed_by=actor,
        )
    )
    return public
