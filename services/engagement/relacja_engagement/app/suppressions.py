"""The suppression list (hard bounces, complaints, manual) and the delivery reports that feed it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import MessageBouncedV1
from relacja_servicekit.pagination import paginate

from ..tables import messages, suppressions
from .errors import InvalidField, NotFound
from .events import outbox
from .schemas import DeliveryReportIn, DeliveryReportPublic, SuppressionIn, SuppressionPublic, SuppressionsPublic

__all__ = ["add_suppression", "list_suppressions", "normalise_address", "report_delivery"]


def normalise_address(channel: str, address: str) -> str:
    return address.strip().lower() if channel == "email" else address.strip()


async def _suppress(
    session: AsyncSession, channel: str, address: str, reason: str, customer_id: Any, note: str | None
) -> Any:
    now = datetime.now(UTC)
    statement = insert(suppressions).values(
        channel=channel,
        address=normalise_address(channel, address),
        reason=reason,
        customer_id=customer_id,
        note=note,
        created_at=now,
    )
    # A complaint outranks a bounce, which outranks a manual entry: the stronger reason is kept.
    return await session.execute(
        statement.on_conflict_do_update(
            index_elements=[suppressions.c.channel, suppressions.c.address],
            set_={"reason": statement.excluded.reason, "note": statement.excluded.note},
            where=suppressions.c.reason == "manual",
        ).returning(*suppressions.c)
    )


async def add_suppression(session: AsyncSession, body: SuppressionIn) -> SuppressionPublic:
    await _suppress(session, body.channel, body.address, "manual", None, body.note)
    row = (
        await session.execute(
            select(suppressions).where(
                suppressions.c.channel == body.channel,
                suppressions.c.address == normalise_address(body.channel, body.address),
            )
        )
    ).one()
    return SuppressionPublic.from_row(row)


async def list_suppressions(
    session: AsyncSession, *, channel: str | None, limit: int, cursor: str | None
) -> SuppressionsPublic:
    query = select(suppressions)
    if channel is not None:
        query = query.where(suppressions.c.channel == channel)
    page = await paginate(
        session,
        query,
        keys=[suppressions.c.created_at, suppressions.c.channel, suppressions.c.address],
        limit=limit,
        cursor=cursor,
        descending=True,
        to_item=SuppressionPublic.from_row,
    )
    return SuppressionsPublic(items=page.items, next_cursor=page.next_cursor)


async def report_delivery(session: AsyncSession, body: DeliveryReportIn) -> DeliveryReportPublic:
    """A bounce or complaint about a sent message: a hard bounce or a complaint suppresses its address."""
    if body.message_id is None and body.provider_message_id is None:
        raise InvalidField("message_id", "Name the message: message_id or provider_message_id.")
    clauses = []
    if body.message_id is not None:
        clauses.append(messages.c.id == body.message_id)
    if body.provider_message_id is not None:
        clauses.append(messages.c.provider_message_id == body.provider_message_id)
    row = (await session.execute(select(messages).where(or_(*clauses)).with_for_update())).first()
    if row is None or row.status not in ("sent", "bounced"):
        raise NotFound("Message", body.message_id or body.provider_message_id)
    now = datetime.now(UTC)
    permanent = body.kind in ("hard_bounce", "complaint")
    if permanent:
        await session.execute(
            messages.update()
            .where(messages.c.id == row.id)
            .values(status="bounced", reason=body.kind, last_error=body.detail, updated_at=now)
        )
        if row.address:
            await _suppress(session, row.channel, row.address, body.kind, row.customer_id, body.detail)
    else:
        await session.execute(
            messages.update()
            .where(messages.c.id == row.id)
            .values(last_error=body.detail or "soft bounce", updated_at=now)
        )
    await outbox.add(
        session,
        MessageBouncedV1(
            customer_id=row.customer_id, message_id=row.id, channel=row.channel, kind=body.kind, occurred_at=now
        ),
    )
    return DeliveryReportPublic(
        message_id=row.id,
        status="bounced" if permanent else row.status,
        suppressed_address=permanent and bool(row.address),
    )
