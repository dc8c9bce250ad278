"""Rules shared by the areas held beside the customer row (interactions, important dates,
consents) and the important-date announcer.

    lock_customer / lock_customers   lock the customer row(s) before writing about them
    forget_stored_responses          erasure drops the stored Idempotency-Key answers

**Lock the customer's row before writing an event about the customer.** The relay
publishes a customer's events in outbox id order, which is commit order only if
transactions that emit for one customer serialise (docs/architecture.md, "Ordering").
Writes that change the customer row get that from the row update; writes of related data
(an interaction, a consent, an announced date) take the same row lock explicitly.
``FOR NO KEY UPDATE`` conflicts with ``UPDATE``/``DELETE`` of the row and with itself,
and not with plain reads or foreign-key checks.

**Claim the Idempotency-Key, then lock.** A create route first claims its
``Idempotency-Key`` (``relacja_servicekit.idempotency.claim_request``: a replay returns
the stored response), then calls the use case, which locks the customer.

**Forget stored responses on erasure.** A response kept for ``Idempotency-Key`` replays
holds what erasure removes (a subject, a label, evidence); erasure drops them, and a
replay then meets the erased customer (409).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_servicekit.idempotency import idempotency_keys

from ..tables import customers
from .records import not_found, reject_erased

__all__ = ["forget_stored_responses", "lock_customer", "lock_customers"]


async def lock_customers(session: AsyncSession, customer_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Lock the rows of ``customer_ids`` (in id order, so two callers cannot deadlock); the ids that exist."""
    ids = sorted(set(customer_ids))
    if not ids:
        return set()
    query = (
        select(customers.c.id)
        .where(customers.c.id.in_(ids))
        .order_by(customers.c.id)
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE
    )
    return set((await session.scalars(query)).all())


async def lock_customer(session: AsyncSession, customer_id: uuid.UUID) -> None:
    """Lock the customer's row; 404 when there is no such customer, 409 when it was erased."""
    query = (
        select(customers.c.id, customers.c.erased_at)
        .where(customers.c.id == customer_id)
        .with_for_update(key_share=True)
    )
    row = (await session.execute(query)).first()
    if row is None:
        raise not_found(customer_id)
    reject_erased(row)  # nothing new is recorded about an erased customer


async def forget_stored_responses(session: AsyncSession, scope: str, customer_id: uuid.UUID) -> None:
    """Drop the stored ``Idempotency-Key`` responses of ``scope`` about the customer."""
    await session.execute(
        delete(idempotency_keys).where(
            idempotency_keys.c.scope == scope,
            idempotency_keys.c.response_body["customer_id"].astext == str(customer_id),
        )
    )
