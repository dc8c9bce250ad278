"""A ticket's thread: ``/api/v1/tickets/{id}/comments``.

    POST /api/v1/tickets/{id}/comments    add one (Idempotency-Key); 409 on a closed ticket or an erased customer's
    GET  /api/v1/tickets/{id}/comments    oldest first; ``public=true`` for what the customer sees

A first public comment by an agent is the first response (TicketFirstRespondedV1, the
first-response target met, a new ticket becomes open); a customer's comment on a ticket
pending the customer moves it back to open and restarts its SLA clocks (app/tickets.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from relacja_servicekit import SessionDep
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from relacja_servicekit.validation import RequireJson

from ..app import comments as use_cases
from .schemas import CommentCreate, CommentPublic, CommentsPublic

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/tickets", tags=["ticket comments"], dependencies=[RequireJson])

_CREATE_SCOPE = "tickets.comments.create"


@router.post(
    "/{ticket_id}/comments",
    status_code=201,
    response_model=CommentPublic,
    summary="Add a comment (public: seen by the customer; internal: agents only)",
    responses=problem_responses(
        {409: "The ticket is closed (ticket-closed), or its customer erased (customer-erased)"}
    ),
)
async def add_comment(
    ticket_id: uuid.UUID, body: CommentCreate, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    now = datetime.now(UTC)
    # The scope holds the ticket: the same key on two tickets is two requests.
    scope = f"{_CREATE_SCOPE}:{ticket_id}"
    async with session.begin():
        if stored := await claim_request(session, scope, idempotency_key, body):
            return stored.to_response()
        row = await use_cases.add_comment(session, ticket_id, body.model_dump(), now)
        return await created_response(
            session,
            scope,
            idempotency_key,
            CommentPublic.from_row(row),
            location=f"/api/v1/tickets/{ticket_id}/comments/{row.id}",
        )


@router.get("/{ticket_id}/comments", response_model=CommentsPublic, summary="The thread, oldest first")
async def list_comments(
    ticket_id: uuid.UUID,
    session: SessionDep,
    public: bool | None = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> CommentsPublic:
    page: Page[object] = await use_cases.list_comments(session, ticket_id, public=public, limit=limit, cursor=cursor)
    return CommentsPublic(items=[CommentPublic.from_row(row) for row in page.items], next_cursor=page.next_cursor)
