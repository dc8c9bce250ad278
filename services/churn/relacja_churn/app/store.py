"""Reading the projection into the arrays the models take.

A purchase is an order in the reporting currency that is neither cancelled nor fully
returned, whatever its amount (``domain.purchases``: a free order is a purchase occasion
too); its amount is the net amount (gross − returned), its day the UTC calendar day it
was placed. Same-day orders are merged by the models' ``summarise``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date

import numpy as np
from sqlalchemy import ARRAY, ColumnElement, and_, any_, cast, func, select
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.fitting import Transactions
from ..tables import aliases, orders

__all__ = ["counted", "load_transactions", "resolve_alias", "resolve_aliases"]


def counted(currency: str) -> ColumnElement[bool]:
    """The orders that are purchases for the models and the KPIs."""
    return and_(orders.c.status != "cancelled", orders.c.fully_returned.is_(False), orders.c.currency == currency)


async def load_transactions(
    session: AsyncSession,
    *,
    currency: str,
    until: date | None = None,
    customer_id: uuid.UUID | None = None,
    customer_ids: Sequence[uuid.UUID] | None = None,
) -> Transactions:
    """Purchases per customer and day (summed), up to and including ``until``; of one
    customer or of ``customer_ids`` only when given."""
    query = (
        select(orders.c.customer_id, orders.c.placed_on, func.sum(orders.c.net_amount).label("amount"))
        .where(counted(currency))
        .group_by(orders.c.customer_id, orders.c.placed_on)
        .order_by(orders.c.customer_id)
    )
    if until is not None:
        query = query.where(orders.c.placed_on <= until)
    if customer_id is not None:
        query = query.where(orders.c.customer_id == customer_id)
    if customer_ids is not None:
        query = query.where(orders.c.customer_id == any_(cast(list(customer_ids), ARRAY(PG_UUID(as_uuid=True)))))
    rows = (await session.execute(query)).all()
    ids: list[uuid.UUID] = []
    keys = np.empty(len(rows), dtype=np.int64)
    days = np.empty(len(rows), dtype=np.int64)
    amounts = np.empty(len(rows), dtype=np.float64)
    previous = None
    for i, (cid, placed_on, amount) in enumerate(rows):
        if cid != previous:
            ids.append(cid)
            previous = cid
        keys[i] = len(ids) - 1
        days[i] = placed_on.toordinal()
        amounts[i] = float(amount)
    return Transactions(ids, keys, days, amounts)


async def resolve_alias(session: AsyncSession, customer_id: uuid.UUID) -> uuid.UUID:
    """The surviving id of a merged customer (or the id itself)."""
    survivor = await session.scalar(select(aliases.c.customer_id).where(aliases.c.merged_customer_id == customer_id))
    return survivor or customer_id


async def resolve_aliases(session: AsyncSession, customer_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """The surviving id of each of ``customer_ids`` (itself when not merged away), in one query."""
    ids = list(set(customer_ids))
    rows = await session.execute(
        select(aliases.c.merged_customer_id, aliases.c.customer_id).where(
            aliases.c.merged_customer_id == any_(cast(ids, ARRAY(PG_UUID(as_uuid=True))))
        )
    )
    found: dict[uuid.UUID, uuid.UUID] = dict(rows.tuples().all())
    return {customer_id: found.get(customer_id, customer_id) for customer_id in ids}
