"""A ticket's thread, in the caller's transaction.

add_comment     on an open ticket of a customer not erased; the ticket moves as
                ``tickets.after_comment`` says (first response, customer reply)
list_comments   oldest first, optionally only public or only internal ones
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_servicekit import Problem
from relacja_servicekit.pagination import Page, paginate

from ..tables import ticket_comments, tickets
from .tickets import after_comment, lock_ticket, ticket_not_found

__all__ = ["add_comment", "list_comments"]


async def add_comment(session: AsyncSession, ticket_id: uuid.UUID, values: Mapping[str, Any], now: datetime) -> Any:
    """The comment row; ``values`` are the CommentCreate fields. 404 / 409 closed or erased as problems."""
    ticket = await lock_ticket(session, ticket_id)
    if ticket.status == "closed":
        raise Problem(
            409,
            "Ticket closed",
            f"Ticket {ticket_id} was closed on {ticket.closed_at.isoformat()}; it takes no more comments. Open a new ticket.",
            type_="ticket-closed",
        )
    if ticket.erased_at is not None:
        raise Problem(
            409,
            "Customer erased",
            f"The customer of ticket {ticket_id} had their data erased; the thread takes no new personal data.",
            type_="customer-erased",
        )
    row = (
        await session.execute(
            insert(ticket_comments)
            .values(id=uuid.uuid4(), ticket_id=ticket_id, created_at=now, **values)
            .returning(ticket_comments)
        )
    ).one()
    await after_comment(session, ticket, author_type=values["author_type"], public=values["public"], now=now)
    return row


async def list_comments(
    session: AsyncSession, ticket_id: uuid.UUID, *, public: bool | None, limit: int, cursor: str | None
) -> Page[Any]:
    """A page of comment rows, oldest first; 404 for an unknown ticket."""
    if (await session.execute(select(tickets.c.id).where(tickets.c.id == ticket_id))).first() is None:
        raise ticket_not_found(ticket_id)
    c = ticket_comments.c
    query = select(ticket_comments).where(c.ticket_id == ticket_id)
    if public is not None:
        query = query.where(c.public.is_(public))
    return await paginate(
        session,
        query,
        keys=[c.created_at, c.id],
        limit=limit,
        cursor=cursor,
        sort="created_at",
        to_item=lambda row: row,
    )
