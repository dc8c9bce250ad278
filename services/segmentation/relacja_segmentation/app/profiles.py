"""A customer's analytical profile: the projection row, read-time day counts, its segments.

    get_profile      the profile, or ProfileNotFound / CustomerMerged (naming the survivor)

Read only; ``tenure_days`` and ``recency_days`` are whole UTC days to today, computed at
read time so they never go stale between events.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ..tables import customer_aliases, customer_profiles

__all__ = ["Profile", "ProfileNotFound", "CustomerMerged", "get_profile"]


class ProfileNotFound(LookupError):
    def __init__(self, customer_id: uuid.UUID) -> None:
        super().__init__(f"No events about customer {customer_id} have been applied yet.")
        self.customer_id = customer_id


class CustomerMerged(LookupError):
    def __init__(self, customer_id: uuid.UUID, survivor: uuid.UUID) -> None:
        super().__init__(f"Customer {customer_id} was merged into {survivor}.")
        self.customer_id = customer_id
        self.survivor = survivor


@dataclass(frozen=True)
class Profile:
    row: Mapping[str, Any]  # the customer_profiles columns plus tenure_days and recency_days
    segments: Sequence[Row[Any]]  # (id, name) by name


async def get_profile(session: AsyncSession, customer_id: uuid.UUID) -> Profile:
    row = (
        await session.execute(
            select(
                customer_profiles,
                text("(timezone('UTC', now())::date - timezone('UTC', first_purchase_at)::date) AS tenure_days"),
                text("(timezone('UTC', now())::date - timezone('UTC', last_purchase_at)::date) AS recency_days"),
            ).where(customer_profiles.c.customer_id == customer_id)
        )
    ).first()
    if row is None:
        survivor = await session.scalar(
            select(customer_aliases.c.customer_id).where(customer_aliases.c.merged_customer_id == customer_id)
        )
        if survivor is not None:
            raise CustomerMerged(customer_id, survivor)
        raise ProfileNotFound(customer_id)
    segments = (
        await session.execute(
            text(
                "SELECT s.id, s.name FROM segment_members m JOIN segments s ON s.id = m.segment_id WHERE m.customer_id = :c ORDER BY s.name"
            ),
            {"c": customer_id},
        )
    ).all()
    return Profile(row=dict(row._mapping), segments=segments)
