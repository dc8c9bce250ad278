"""The projection the fan-out and the reports read: customers, consents, segments.

Consents keep the latest record per (customer, partner, purpose) by ``occurred_at`` (the
customers service refuses older records, so a later one never loses to a replayed older
one here either). Erasure keeps the row (the fan-out must know the customer is erased)
and drops the e-mail, consents and segment memberships.

A merge moves the merged customer's consents (the later record wins where both have
one), segment memberships and recipient rows to the survivor: the partners that were
given the merged customer keep the identifier they know, so later records about the
survivor reach them under it, and an erasure of the survivor notifies them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..tables import consents, customers, segment_members

__all__ = [
    "apply_consent",
    "erase_customer",
    "merge_customers",
    "record_customers",
    "set_membership",
    "set_rfm_segment",
]


async def record_customers(session: AsyncSession, emails: Sequence[tuple[uuid.UUID, str | None]]) -> None:
    """Remember each registered customer's e-mail (an identifier some agreements give), in
    one statement; of two for one customer the later wins. An erased customer stays erased."""
    latest = dict(emails)
    if not latest:
        return
    statement = pg_insert(customers)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[customers.c.customer_id],
            set_={"email": statement.excluded.email, "updated_at": func.now()},
            where=customers.c.erased_at.is_(None),
        ),
        [{"customer_id": cid, "email": email} for cid, email in latest.items()],
    )


async def set_rfm_segment(session: AsyncSession, customer_id: uuid.UUID, segment: str | None) -> None:
    await session.execute(
        pg_insert(customers)
        .values(customer_id=customer_id, rfm_segment=segment)
        .on_conflict_do_update(
            index_elements=[customers.c.customer_id], set_={"rfm_segment": segment, "updated_at": func.now()}
        )
    )


async def set_membership(
    session: AsyncSession, customer_id: uuid.UUID, segment_id: uuid.UUID, name: str, *, member: bool
) -> None:
    if member:
        await session.execute(
            pg_insert(segment_members)
            .values(customer_id=customer_id, segment_id=segment_id, segment_name=name)
            .on_conflict_do_update(
                index_elements=[segment_members.c.customer_id, segment_members.c.segment_id],
                set_={"segment_name": name},
            )
        )
    else:
        await session.execute(
            delete(segment_members).where(
                segment_members.c.customer_id == customer_id, segment_members.c.segment_id == segment_id
            )
        )


async def apply_consent(
    session: AsyncSession,
    customer_id: uuid.UUID,
    partner_id: str,
    purpose: str,
    *,
    granted: bool,
    occurred_at: datetime,
) -> bool:
    """Record the consent's state; False when a later record was already applied (nothing changed)."""
    result = await session.execute(
        pg_insert(consents)
        .values(
            customer_id=customer_id,
            partner_id=partner_id,
            partner_purpose=purpose,
            granted=granted,
            occurred_at=occurred_at,
        )
        .on_conflict_do_update(
            index_elements=[consents.c.customer_id, consents.c.partner_id, consents.c.partner_purpose],
            set_={"granted": granted, "occurred_at": occurred_at},
            where=consents.c.occurred_at <= occurred_at,
        )
        .returning(consents.c.granted)
    )
    return result.first() is not None


async def erase_customer(session: AsyncSession, customer_id: uuid.UUID, erased_at: datetime) -> None:
    await session.execute(
        pg_insert(customers)
        .values(customer_id=customer_id, erased_at=erased_at)
        .on_conflict_do_update(index_elements=[customers.c.customer_id], set_={"erased_at": erased_at, "email": None})
    )
    await session.execute(update(customers).where(customers.c.customer_id == customer_id).values(region=None))
    await session.execute(delete(consents).where(consents.c.customer_id == customer_id))
    await session.execute(delete(segment_members).where(segment_members.c.customer_id == customer_id))


_MERGE = (
    """
    INSERT INTO sharing_consents (customer_id, partner_id, partner_purpose, granted, occurred_at)
    SELECT CAST(:survivor AS uuid), partner_id, partner_purpose, granted, occurred_at
      FROM sharing_consents WHERE customer_id = CAST(:merged AS uuid)
    ON CONFLICT (customer_id, partner_id, partner_purpose) DO UPDATE
       SET granted = EXCLUDED.granted, occurred_at = EXCLUDED.occurred_at
     WHERE sharing_consents.occurred_at < EXCLUDED.occurred_at
    """,
    "DELETE FROM sharing_consents WHERE customer_id = CAST(:merged AS uuid)",
    """
    INSERT INTO sharing_segment_members (customer_id, segment_id, segment_name)
    SELECT CAST(:survivor AS uuid), segment_id, segment_name
      FROM sharing_segment_members WHERE customer_id = CAST(:merged AS uuid)
    ON CONFLICT DO NOTHING
    """,
    "DELETE FROM sharing_segment_members WHERE customer_id = CAST(:merged AS uuid)",
    """
    INSERT INTO sharing_recipients (agreement_id, customer_id, partner_id, identifier, first_disclosed_at)
    SELECT agreement_id, CAST(:survivor AS uuid), partner_id, identifier, first_disclosed_at
      FROM sharing_recipients WHERE customer_id = CAST(:merged AS uuid)
    ON CONFLICT (agreement_id, customer_id) DO NOTHING
    """,
    "DELETE FROM sharing_recipients WHERE customer_id = CAST(:merged AS uuid)",
)


async def merge_customers(session: AsyncSession, survivor: uuid.UUID, merged: uuid.UUID) -> None:
    for statement in _MERGE:
        await session.execute(text(statement), {"survivor": str(survivor), "merged": str(merged)})
