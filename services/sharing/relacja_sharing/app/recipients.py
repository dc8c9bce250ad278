"""Who was given a customer, under which identifier — and back.

``resolve_identifier`` is how inbound contributions find the customer a partner refers
to: only customers that partner was given, by the identifier it was given (the pair is
stored by the fan-out the first time a customer's data enters one of its agreements'
feeds). An erased customer resolves to nothing.
"""

from __future__ import annotations

import uuid

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..tables import customers, recipients

__all__ = ["resolve_identifier"]


async def resolve_identifier(session: AsyncSession, partner_id: uuid.UUID, identifier: str) -> uuid.UUID | None:
    """The customer ``partner_id`` knows as ``identifier``, or None when it was given no such customer."""
    erased = exists().where(customers.c.customer_id == recipients.c.customer_id, customers.c.erased_at.is_not(None))
    query = (
        select(recipients.c.customer_id)
        .where(recipients.c.partner_id == partner_id, recipients.c.identifier == identifier, ~erased)
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()
