"""Partner API keys: issue (the key is shown once), list, revoke, and introspection.

Introspection is what the gateway asks on every ``/partner/v1`` request: the key's
partner and that partner's status, or ``InvalidKey`` (401) for a malformed, unknown or
revoked key. Nothing is cached here, so a revocation holds from the next request. The
last-used time is written at most once per ``resolution`` (a busy key would otherwise
update its row on every request).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.identifiers import hash_secret, new_api_key, parse_api_key, secret_matches
from ..tables import partner_keys, partners
from .errors import InvalidKey, NotFound
from .schemas import Introspection, KeyCreate, KeyPublic

__all__ = ["introspect", "issue_key", "list_keys", "revoke_key"]

_PUBLIC = [c for c in partner_keys.c if c.name != "secret_hash"]


async def issue_key(session: AsyncSession, partner_id: uuid.UUID, body: KeyCreate) -> tuple[KeyPublic, str]:
    """The new key's record and its text (shown to the caller once, never stored)."""
    key = new_api_key()
    row = (
        await session.execute(
            insert(partner_keys)
            .values(
                id=uuid.uuid4(),
                partner_id=partner_id,
                lookup=key.lookup,
                secret_hash=hash_secret(key.secret),
                label=body.label,
            )
            .returning(*_PUBLIC)
        )
    ).one()
    return KeyPublic.from_row(row), key.text


async def list_keys(session: AsyncSession, partner_id: uuid.UUID) -> list[KeyPublic]:
    rows = await session.execute(
        select(*_PUBLIC).where(partner_keys.c.partner_id == partner_id).order_by(partner_keys.c.created_at)
    )
    return [KeyPublic.from_row(row) for row in rows]


async def revoke_key(session: AsyncSession, partner_id: uuid.UUID, key_id: uuid.UUID) -> KeyPublic:
    row = (
        await session.execute(
            update(partner_keys)
            .where(partner_keys.c.id == key_id, partner_keys.c.partner_id == partner_id)
            .values(revoked_at=func.coalesce(partner_keys.c.revoked_at, func.now()))
            .returning(*_PUBLIC)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("Key", key_id)
    return KeyPublic.from_row(row)


async def introspect(session: AsyncSession, api_key: str, *, resolution: timedelta) -> Introspection:
    parsed = parse_api_key(api_key)
    if parsed is None:
        raise InvalidKey("malformed")
    row: Any = (
        await session.execute(
            select(partner_keys.c.id, partner_keys.c.partner_id, partner_keys.c.secret_hash, partners.c.status)
            .join(partners, partners.c.id == partner_keys.c.partner_id)
            .where(partner_keys.c.lookup == parsed.lookup, partner_keys.c.revoked_at.is_(None))
        )
    ).one_or_none()
    if row is None or not secret_matches(parsed.secret, row.secret_hash):
        raise InvalidKey("unknown or revoked")
    await session.execute(
        update(partner_keys)
        .where(
            partner_keys.c.id == row.id,
            or_(partner_keys.c.last_used_at.is_(None), partner_keys.c.last_used_at < func.now() - resolution),
        )
        .values(last_used_at=func.now())
    )
    return Introspection(partner_id=row.partner_id, key_id=row.id, partner_status=row.status)
