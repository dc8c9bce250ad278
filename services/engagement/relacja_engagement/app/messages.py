"""The message log: messages per customer, trigger or campaign with their states; the customer-360 part."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_servicekit.pagination import paginate

from ..domain.decision import CONSENT_PURPOSE
from ..tables import consents, known_customers, messages, suppressions
from .errors import NotFound
from .schemas import Channel, CustomerEngagement, MessagePublic, MessagesPublic

__all__ = ["customer_engagement", "get_message", "list_messages"]

_COLUMNS = [messages.c[name] for name in MessagePublic.model_fields]


async def get_message(session: AsyncSession, message_id: uuid.UUID) -> MessagePublic:
    row = (await session.execute(select(*_COLUMNS).where(messages.c.id == message_id))).one_or_none()
    if row is None:
        raise NotFound("Message", message_id)
    return MessagePublic.from_row(row)


async def list_messages(
    session: AsyncSession,
    *,
    customer_id: uuid.UUID | None,
    trigger_id: uuid.UUID | None,
    campaign_id: uuid.UUID | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> MessagesPublic:
    query = select(*_COLUMNS)
    for column, value in (
        (messages.c.customer_id, customer_id),
        (messages.c.trigger_id, trigger_id),
        (messages.c.campaign_id, campaign_id),
        (messages.c.status, status),
    ):
        if value is not None:
            query = query.where(column == value)
    page = await paginate(
        session,
        query,
        keys=[messages.c.created_at, messages.c.id],
        limit=limit,
        cursor=cursor,
        descending=True,
        to_item=MessagePublic.from_row,
    )
    return MessagesPublic(items=page.items, next_cursor=page.next_cursor)


async def customer_engagement(session: AsyncSession, customer_id: uuid.UUID) -> CustomerEngagement:
    customer = (
        await session.execute(select(known_customers).where(known_customers.c.customer_id == customer_id))
    ).one_or_none()
    counts: dict[str, int] = dict(
        (
            await session.execute(
                select(messages.c.status, func.count())
                .where(messages.c.customer_id == customer_id)
                .group_by(messages.c.status)
            )
        ).all()
    )
    if customer is None and not counts:
        raise NotFound("Customer", customer_id)
    last_sent = (
        await session.execute(select(func.max(messages.c.sent_at)).where(messages.c.customer_id == customer_id))
    ).scalar_one()
    held = dict(
        (
            await session.execute(
                select(consents.c.purpose, consents.c.granted).where(consents.c.customer_id == customer_id)
            )
        ).all()
    )
    addresses: dict[Channel, str | None] = {
        "email": customer.email if customer else None,
        "sms": customer.phone if customer else None,
    }
    addresses["push"] = addresses["sms"]
    suppressed: list[Channel] = []
    for channel, address in addresses.items():
        if (
            address
            and (
                await session.execute(
                    select(suppressions.c.reason).where(
                        suppressions.c.channel == channel, suppressions.c.address == address
                    )
                )
            ).first()
        ):
            suppressed.append(channel)
    recent = await list_messages(
        session, customer_id=customer_id, trigger_id=None, campaign_id=None, status=None, limit=5, cursor=None
    )
    return CustomerEngagement(
        customer_id=customer_id,
        messages_by_status=counts,
        last_sent_at=last_sent,
        consents={purpose: held[purpose] for purpose in CONSENT_PURPOSE.values() if purpose in held},
        suppressed_channels=suppressed,
        recent=recent.items,
    )
