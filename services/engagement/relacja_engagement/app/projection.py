"""Projections of the customers, segmentation and loyalty events the triggers and checks read.

registered        known (e-mail, name, stage, tags); contact details read through later
updated           stage and tags; a changed contact field clears ``profile_fetched_at``
                  so the sender reads the customer again before the next message
merged            the merged id is gone (its due messages are suppressed at send time)
erased            state erased, personal fields and message addresses dropped
consent granted / withdrawn   the newest record per marketing purpose wins
segment member removed        out of the campaign audiences
coupon redeemed / released    the campaign results' redeemed coupons
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import (
    ConsentGrantedV1,
    ConsentWithdrawnV1,
    CouponRedeemedV1,
    CustomerRegisteredV1,
    CustomerUpdatedV1,
)
from relacja_servicekit.known_customers import project_erased, project_merged

from ..domain.decision import CONSENT_PURPOSE
from ..tables import consents, coupon_redemptions, known_customers, messages, segment_members

__all__ = [
    "coupon_redeemed",
    "coupon_released",
    "customer_erased",
    "customer_merged",
    "customer_registered",
    "customer_updated",
    "record_consent",
    "segment_member_removed",
]

CONTACT_FIELDS = frozenset(
    {"email", "phone", "given_name", "family_name", "display_name", "preferred_language", "addresses", "legal_name"}
)
MARKETING_PURPOSES = frozenset(CONSENT_PURPOSE.values())


async def customer_registered(session: AsyncSession, p: CustomerRegisteredV1) -> None:
    values = {
        "display_name": p.display_name,
        "email": p.email,
        "lifecycle_stage": p.lifecycle_stage,
        "tags": list(p.tags),
    }
    statement = insert(known_customers).values(customer_id=p.customer_id, state="active", **values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[known_customers.c.customer_id],
            set_=values,
            where=known_customers.c.state == "active",
        )
    )


async def customer_updated(session: AsyncSession, p: CustomerUpdatedV1) -> None:
    values: dict[str, object] = {"lifecycle_stage": p.lifecycle_stage, "tags": list(p.tags)}
    if CONTACT_FIELDS.intersection(p.changed_fields):
        values["profile_fetched_at"] = None
    statement = insert(known_customers).values(customer_id=p.customer_id, state="active", **values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[known_customers.c.customer_id],
            set_=values,
            where=known_customers.c.state == "active",
        )
    )


async def customer_merged(session: AsyncSession, survivor: uuid.UUID, merged: uuid.UUID) -> None:
    await project_merged(session, known_customers, survivor, merged)


async def customer_erased(session: AsyncSession, customer_id: uuid.UUID) -> None:
    await project_erased(session, known_customers, customer_id)
    await session.execute(
        update(known_customers)
        .where(known_customers.c.customer_id == customer_id)
        .values(
            display_name=None,
            given_name=None,
            email=None,
            phone=None,
            preferred_language=None,
            country=None,
            tags=[],
            profile_fetched_at=None,
        )
    )
    await session.execute(
        update(messages).where(messages.c.customer_id == customer_id).values(address=None, context={})
    )
    await session.execute(delete(consents).where(consents.c.customer_id == customer_id))


async def record_consent(session: AsyncSession, p: ConsentGrantedV1 | ConsentWithdrawnV1) -> None:
    if p.purpose not in MARKETING_PURPOSES:
        return
    statement = insert(consents).values(
        customer_id=p.customer_id,
        purpose=p.purpose,
        granted=isinstance(p, ConsentGrantedV1),
        occurred_at=p.occurred_at,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[consents.c.customer_id, consents.c.purpose],
            set_={"granted": statement.excluded.granted, "occurred_at": statement.excluded.occurred_at},
            where=consents.c.occurred_at <= statement.excluded.occurred_at,
        )
    )


async def segment_member_removed(session: AsyncSession, segment_id: uuid.UUID, customer_id: uuid.UUID) -> None:
    await session.execute(
        delete(segment_members).where(
            segment_members.c.segment_id == segment_id, segment_members.c.customer_id == customer_id
        )
    )


async def coupon_redeemed(session: AsyncSession, p: CouponRedeemedV1) -> None:
    await session.execute(
        insert(coupon_redemptions)
        .values(coupon_id=p.coupon_id, order_id=p.order_id, redeemed_at=p.occurred_at)
        .on_conflict_do_nothing()
    )


async def coupon_released(session: AsyncSession, coupon_id: uuid.UUID, order_id: uuid.UUID, at: datetime) -> None:
    await session.execute(
        update(coupon_redemptions)
        .where(coupon_redemptions.c.coupon_id == coupon_id, coupon_redemptions.c.order_id == order_id)
        .values(released=True)
    )
