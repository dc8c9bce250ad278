"""``/api/v1/engagement/messages`` and ``/customers/{id}``: the message log and the customer-360 part.

GET /api/v1/engagement/messages        ?customer_id=&trigger_id=&campaign_id=&status=, newest first
GET /api/v1/engagement/messages/{id}
GET /api/v1/engagement/customers/{id}  the engagement part of the customer 360 view
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter

from relacja_servicekit import SessionDep
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.validation import RequireJson

from ..app import messages
from ..app.schemas import CustomerEngagement, MessagePublic, MessagesPublic, MessageStatus
from .problems import app_errors

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/engagement", tags=["engagement messages"], dependencies=[RequireJson])


@router.get("/messages", response_model=MessagesPublic, summary="Messages with their states (cursor-paginated)")
async def list_messages(
    session: SessionDep,
    customer_id: uuid.UUID | None = None,
    trigger_id: uuid.UUID | None = None,
    campaign_id: uuid.UUID | None = None,
    status: MessageStatus | None = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Any:
    return await messages.list_messages(
        session,
        customer_id=customer_id,
        trigger_id=trigger_id,
        campaign_id=campaign_id,
        status=status,
        limit=limit,
        cursor=cursor,
    )


@router.get(
    "/messages/{message_id}",
    response_model=MessagePublic,
    summary="Get a message",
    responses=problem_responses({404: "No such message"}),
)
async def get_message(message_id: uuid.UUID, session: SessionDep) -> Any:
    with app_errors():
        return await messages.get_message(session, message_id)


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerEngagement,
    summary="The engagement part of the customer 360 view",
    responses=problem_responses({404: "A customer this service has never heard of"}),
)
async def customer_engagement(customer_id: uuid.UUID, session: SessionDep) -> Any:
    with app_errors():
        return await messages.customer_engagement(session, customer_id)
