"""Likely duplicates of a customer, and merging two records into one.

    list_duplicates(session, id, limit)                          → ranked Duplicate candidates
    merge_customers(session, id, other_id, check_version)        → the survivor (CustomersMergedV1)

Candidates (``domain.duplicates``): the same normalised e-mail or phone, or a display name
whose ``pg_trgm`` similarity is at least ``NAME_SIMILARITY_THRESHOLD``; same kind, not
erased. The list is short and ranked, so it is one bounded answer (``limit``), not a
cursor-paginated collection.

A merge (``domain.merge`` says which values survive) happens in the caller's transaction:
both rows locked in id order, every ``RELATED_DATA`` area re-keyed to the survivor, the
event log and the persons of a merged company re-pointed, the other row deleted, the
survivor written with a new version; then ``CustomersMergedV1`` and, if fields changed,
``CustomerUpdatedV1``. A merge is not retried safely by repeating it: the repeat finds the
other record gone (404) — which is the answer a client needs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import CustomersMergedV1
from relacja_servicekit import Problem

from ..domain.customer import changed_fields
from ..domain.duplicates import NAME_SIMILARITY_THRESHOLD, duplicate_score
from ..domain.merge import merged_fields
from ..events import emit
from ..tables import customer_event_log, customers
from ..tables.customers import PUBLIC_COLUMNS
from .records import (
    fields_of,
    load_customer,
    not_found,
    public_of,
    reject_erased,
    update_customer,
    updated_event,
    validate_record,
)
from .related_areas import RELATED_DATA
from .schemas import CustomerPublic

__all__ = ["MAX_DUPLICATES", "NAME_SIMILARITY_THRESHOLD", "Duplicate", "list_duplicates", "merge_customers"]

MAX_DUPLICATES = 50


@dataclass(frozen=True)
class Duplicate:
    customer: CustomerPublic
    score: float  # 1.0 for a shared e-mail or phone, else the name similarity
    reasons: list[str]  # email, phone and/or name


async def list_duplicates(session: AsyncSession, customer_id: uuid.UUID, limit: int) -> list[Duplicate]:
    """At most ``limit`` likely duplicates of the customer, best first (404 when it does not exist)."""
    me = await load_customer(session, customer_id)
    # The % operator uses this threshold; similarity() gives the score.
    await session.execute(text(f"SET LOCAL pg_trgm.similarity_threshold = {NAME_SIMILARITY_THRESHOLD}"))
    same_email = customers.c.email_normalized == me.email_normalized
    same_phone = customers.c.phone == me.phone
    similar = customers.c.name_key.op("%")(me.name_key)
    similarity = func.similarity(customers.c.name_key, me.name_key)
    matches = [similar] + ([same_email] if me.email_normalized else []) + ([same_phone] if me.phone else [])
    rows = (
        await session.execute(
            select(
                *PUBLIC_COLUMNS,
                func.coalesce(same_email, False).label("same_email"),
                func.coalesce(same_phone, False).label("same_phone"),
                similarity.label("similarity"),
            )
            .where(
                customers.c.id != customer_id,
                customers.c.kind == me.kind,
                customers.c.erased_at.is_(None),
                or_(*matches),
            )
            .order_by(or_(same_email, same_phone).desc().nulls_last(), similarity.desc(), customers.c.id)
            .limit(limit)
        )
    ).all()
    found = []
    for row in rows:
        score, reasons = duplicate_score(
            same_email=row.same_email, same_phone=row.same_phone, name_similarity=float(row.similarity)
        )
        if reasons:
            found.append(Duplicate(customer=public_of(row), score=score, reasons=reasons))
    return found


def _invalid_merge(message: str) -> Problem:
    return Problem(
        422,
        "Validation failed",
        "These customers cannot be merged.",
        type_="validation-error",
        errors=[{"field": "body.merge_customer_id", "message": message}],
    )


async def _lock_both(session: AsyncSession, survivor_id: uuid.UUID, other_id: uuid.UUID) -> dict[uuid.UUID, Any]:
    # In id order, so two merges of the same pair (either way round) cannot deadlock.
    query = (
        select(*customers.c)
        .where(customers.c.id.in_([survivor_id, other_id]))
        .order_by(customers.c.id)
        .with_for_update()
    )
    return {row.id: row for row in (await session.execute(query)).all()}


async def merge_customers(
    session: AsyncSession, customer_id: uuid.UUID, other_id: uuid.UUID, check_version: Callable[[int], None]
) -> CustomerPublic:
    """Merge ``other_id`` into ``customer_id``; the survivor.

    422 for a merge into itself or of different kinds, 404 when either is missing,
    ``check_version`` on the survivor's version (the caller's If-Match), 409 when either
    was erased, 422 when the merged record would not be valid.
    """
    if other_id == customer_id:
        raise _invalid_merge("cannot merge a customer into itself")
    rows = await _lock_both(session, customer_id, other_id)
    if customer_id not in rows:
        raise not_found(customer_id)
    if other_id not in rows:
        raise not_found(other_id, "body.merge_customer_id")
    survivor, other = rows[customer_id], rows[other_id]
    check_version(survivor.version)
    reject_erased(survivor)
    reject_erased(other, "body.merge_customer_id")
    if survivor.kind != other.kind:
        raise _invalid_merge(f"a {other.kind} cannot be merged into a {survivor.kind}")

    current = fields_of(survivor)
    fields = merged_fields(survivor.kind, current, fields_of(other))
    await validate_record(session, survivor.kind, fields, before=current, customer_id=customer_id)
    for area in RELATED_DATA:
        await area.rekey(session, other_id, customer_id)
    await session.execute(
        update(customer_event_log).where(customer_event_log.c.customer_id == other_id).values(customer_id=customer_id)
    )
    await session.execute(
        update(customers)
        .where(customers.c.company_id == other_id)
        .values(company_id=customer_id, company_name_key=survivor.name_key)
    )
    await session.execute(delete(customers).where(customers.c.id == other_id))
    row = await update_customer(session, survivor, fields)
    await emit(
        session, CustomersMergedV1(customer_id=customer_id, merged_customer_id=other_id, merged_at=row.updated_at)
    )
    changed = changed_fields(current, fields)
    if changed:
        await emit(session, updated_event(row, changed))
    return public_of(row)
