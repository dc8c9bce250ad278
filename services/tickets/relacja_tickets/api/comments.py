"""A ticket's thread: ``/api/v1/tickets/{id}/comments``.

    POST /api/v1/tickets/{id}/comments    add one (Idempotency-Key); 409 on a closed ticket or an erased customer's
    GET  /api/v1/tickets/{id}/comments    oldest first; ``public=true`` for what the customer sees

A first public comment by an agent is the first response (TicketFirstRespondedV1, the
first-response target met, a new ticket becomes open); a customer's comment on a ticket
pending the customer moves it back to open and restarts its SLA clocks.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import insert, select

from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.idempotency import IdempotencyKeyHeader
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, paginate
from relacja_servicekit.validation import RequireJson

from ..tables import ticket_comments, tickets
from ..workflow import after_comment, lock_ticket, ticket_not_found
from .http import PROBLEM, claim_key, created
from .schemas import CommentCreate, CommentPublic, CommentsPublic

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/tickets", tags=["ticket comments"], dependencies=[RequireJson])

_CREATE_SCOPE = "tickets.comments.create"


@router.post(
    "/{ticket_id}/comments",
    status_code=201,
    response_model=CommentPublic,
    summary="Add a comment (public: seen by the customer; internal: agents only)",
    responses={404: PROBLEM, 409: {"description": "The ticket is closed, or its customer erased", **PROBLEM}, 422: PROBLEM},
)
async def add_comment(
    ticket_id: uuid.UUID, body: CommentCreate, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    now = datetime.now(UTC)
    if body.author_type == "customer" and not body.public:
        raise Problem(422, "Validation failed", "A customer's comment is always public.", type_="validation-error",
                      errors=[{"field": "body.public", "message": "must be true for author_type customer"}])
    async with session.begin():
        stored = await claim_key(session, f"{_CREATE_SCOPE}:{ticket_id}", idempotency_key, body)
        if stored:
            return stored.to_response()
        ticket = await lock_ticket(session, ticket_id)
        if ticket.status == "closed":
            raise Problem(
                409, "Ticket closed",
                f"Ticket {ticket_id} was closed on {ticket.closed_at.isoformat()}; it takes no more comments. Open a new ticket.",
                type_="ticket-closed",
            )
        if ticket.erased_at is not None:
            raise Problem(
                409, "Customer erased",
                f"The customer of ticket {ticket_id} had their data erased; the thread takes no new personal data.",
                type_="customer-erased",
            )
        row = (
            await session.execute(
                insert(ticket_comments)
                .values(id=uuid.uuid4(), ticket_id=ticket_id, created_at=now, **body.model_dump())
                .returning(ticket_comments)
            )
        ).one()
        await after_comment(session, ticket, author_type=body.author_type, public=body.public, now=now)
        return await created(
            session, f"{_CREATE_SCOPE}:{ticket_id}", idempotency_key, CommentPublic.from_row(row),
            location=f"/api/v1/tickets/{ticket_id}/comments/{row.id}",
        )


@router.get("/{ticket_id}/comments", response_model=CommentsPublic, summary="The thread, oldest first", responses={404: PROBLEM})
async def list_comments(
    ticket_id: uuid.UUID,
    session: SessionDep,
    public: bool | None = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> CommentsPublic:
    if (await session.execute(select(tickets.c.id).where(tickets.c.id == ticket_id))).first() is None:
        raise ticket_not_found(ticket_id)
    c = ticket_comments.c
    query = select(ticket_comments).where(c.ticket_id == ticket_id)
    if public is not None:
        query = query.where(c.public.is_(public))
    return await paginate(session, query, keys=[c.created_at, c.id], limit=limit, cursor=cursor, sort="created_at",
                          to_item=CommentPublic.from_row)
