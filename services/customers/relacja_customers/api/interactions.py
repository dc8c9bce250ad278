"""The contact history: ``/api/v1/customers/{id}/interactions`` and an agent's meetings
(HTTP; the use cases are in ``app/interactions.py``).

    POST /api/v1/customers/{id}/interactions                   log one (Idempotency-Key); InteractionLoggedV1
    GET  /api/v1/customers/{id}/interactions                   newest first; channel, direction, agent, time filters
    GET  /api/v1/customers/{id}/interactions/{interaction_id}
    GET  /api/v1/customers/meetings?agent_id=&from=&to=        an agent's calendar, soonest first

Every path stays under ``/api/v1/customers`` (the gateway routes that prefix here).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from relacja_contracts.events.customers import InteractionChannel
from relacja_servicekit import SessionDep
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.validation import RequireJson

from ..app import interactions
from ..app.interactions import (
    CREATE_SCOPE,
    AgentCalendar,
    Direction,
    InteractionCreate,
    InteractionFilter,
    InteractionPublic,
    InteractionsPublic,
)
from ..app.schemas import AwareTimestamp

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/customers", tags=["contact history"], dependencies=[RequireJson])

_AgentParam = Annotated[str, Query(min_length=1, max_length=200)]


@router.get(
    "/meetings",
    response_model=InteractionsPublic,
    summary="An agent's calendar: meetings not yet over, soonest first",
    description=(
        "Meetings the agent owns (`agent_id`) or attends (`attendee_agent_ids`) that end after `from` "
        "(default now) and start before `to` (default: no end)."
    ),
    responses=problem_responses({400: "Unknown parameter, bad value or cursor, or `to` not after `from`"}),
)
async def agent_meetings(
    session: SessionDep,
    agent_id: _AgentParam,
    start: Annotated[AwareTimestamp | None, Query(alias="from", description="RFC 3339; default now")] = None,
    end: Annotated[
        AwareTimestamp | None, Query(alias="to", description="RFC 3339; meetings starting before it")
    ] = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> InteractionsPublic:
    calendar = AgentCalendar(agent_id=agent_id, start=start, end=end)
    return await interactions.agent_meetings(session, calendar, limit=limit, cursor=cursor)


@router.post(
    "/{customer_id}/interactions",
    status_code=201,
    response_model=InteractionPublic,
    summary="Log a contact with the customer",
    responses=problem_responses(
        {404: "No such customer"},
        {409: "The customer was erased (customer-erased)"},
        {422: "Invalid body: meeting fields on another channel, a meeting without its schedule, a time in the future"},
    ),
)
async def log_interaction(
    customer_id: uuid.UUID, body: InteractionCreate, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    async with session.begin():
        request = {"customer_id": str(customer_id), **body.model_dump(mode="json")}
        if stored := await claim_request(session, CREATE_SCOPE, idempotency_key, request):
            return stored.to_response()
        item = await interactions.log_interaction(session, customer_id, body)
        return await created_response(
            session,
            CREATE_SCOPE,
            idempotency_key,
            item.model_dump(mode="json"),
            location=f"{router.prefix}/{customer_id}/interactions/{item.id}",
        )


@router.get(
    "/{customer_id}/interactions",
    response_model=InteractionsPublic,
    summary="A customer's contact history, newest first",
    responses=problem_responses({404: "No such customer"}),
)
async def list_interactions(
    customer_id: uuid.UUID,
    session: SessionDep,
    channel: InteractionChannel | None = None,
    direction: Direction | None = None,
    agent_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    occurred_after: Annotated[
        AwareTimestamp | None, Query(description="Only interactions at or after this time")
    ] = None,
    occurred_before: Annotated[AwareTimestamp | None, Query(description="Only interactions before this time")] = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> InteractionsPublic:
    where = InteractionFilter(
        channel=channel,
        direction=direction,
        agent_id=agent_id,
        occurred_after=occurred_after,
        occurred_before=occurred_before,
    )
    return await interactions.list_interactions(session, customer_id, where, limit=limit, cursor=cursor)


@router.get(
    "/{customer_id}/interactions/{interaction_id}",
    response_model=InteractionPublic,
    summary="One interaction",
    responses=problem_responses({404: "No such customer or interaction"}),
)
async def get_interaction(customer_id: uuid.UUID, interaction_id: uuid.UUID, session: SessionDep) -> InteractionPublic:
    return await interactions.get_interaction(session, customer_id, interaction_id)
