"""Tickets: ``/api/v1/tickets``.

    POST  /api/v1/tickets                       open one (Idempotency-Key) for an active customer; TicketOpenedV1
    GET   /api/v1/tickets                       newest first; status, type, priority, assignee_id, team,
                                                customer_id, due_before, breached filters
    GET   /api/v1/tickets/queue                 an agent's (assignee_id) or team's active tickets, soonest due first
    GET   /api/v1/tickets/at-risk               active tickets due within ``within_minutes`` (not yet breached)
    GET   /api/v1/tickets/settings              the settings that change answers, and the state machine
    GET   /api/v1/tickets/{id}                  with ETag and its SLA state
    PATCH /api/v1/tickets/{id}                  change fields (If-Match required)
    POST  /api/v1/tickets/{id}/<action>         start, wait, resume, resolve, close, reopen (If-Match optional,
                                                checked when sent); 409 illegal-transition naming the allowed actions

The fixed paths (queue, at-risk, settings, metrics, customers/…) are registered before ``/{id}``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from relacja_contracts.events.tickets import TicketPriority, TicketStatus, TicketType
from relacja_servicekit import SessionDep
from relacja_servicekit.customer_directory import CustomerDirectoryDep
from relacja_servicekit.etags import IfMatchHeader, RequiredIfMatchHeader, etag
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.types import Timestamp
from relacja_servicekit.validation import RequireJson

from ..app import tickets as use_cases
from ..app.sla_policies import default_policy_id
from ..app.tickets import TicketFilters, TicketPage, TicketState
from ..domain.lifecycle import ACTIONS, Action, IllegalTransition, allowed_actions
from ..settings import TicketsSettings
from .problems import illegal_transition, invalid_parameter
from .schemas import TicketCreate, TicketPublic, TicketsPublic, TicketsSettingsPublic, TicketUpdate, ticket_public

__all__ = ["list_router", "item_router"]

# Two routers so that main.py can put the fixed paths of other modules between them.
list_router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"], dependencies=[RequireJson])
item_router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"], dependencies=[RequireJson])

_CREATE_SCOPE = "tickets.create"
AgentQuery = Annotated[str | None, Query(min_length=1, max_length=200)]


def _settings(request: Request) -> TicketsSettings:
    return request.app.state.settings


def _page(page: TicketPage) -> TicketsPublic:
    return TicketsPublic(items=[ticket_public(state) for state in page.items], next_cursor=page.next_cursor)


def _answer(state: TicketState, status_code: int = 200) -> JSONResponse:
    ticket = ticket_public(state)
    return JSONResponse(jsonable_encoder(ticket), status_code=status_code, headers={"ETag": etag(ticket.version)})


@list_router.post(
    "",
    status_code=201,
    response_model=TicketPublic,
    summary="Open a ticket",
    responses=problem_responses(
        {422: "Invalid body; unknown, erased or merged customer"},
        {503: "The customers service could not be asked about a customer not projected yet (Retry-After)"},
    ),
)
async def create_ticket(
    body: TicketCreate,
    session: SessionDep,
    directory: CustomerDirectoryDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    now = datetime.now(UTC)
    body = body.model_copy(update={"tags": list(dict.fromkeys(body.tags))})
    async with session.begin():
        if stored := await claim_request(session, _CREATE_SCOPE, idempotency_key, body):
            return stored.to_response()
        state = await use_cases.open_ticket(session, directory, body.model_dump(), now)
        return await created_response(
            session,
            _CREATE_SCOPE,
            idempotency_key,
            ticket_public(state),
            location=f"/api/v1/tickets/{state.row.id}",
            version=state.row.version,
        )


@list_router.get("", response_model=TicketsPublic, summary="Tickets, newest first, with filters")
async def list_tickets(
    session: SessionDep,
    status: Annotated[list[TicketStatus] | None, Query(description="Repeat for several")] = None,
    type: Annotated[list[TicketType] | None, Query(description="Repeat for several")] = None,
    priority: Annotated[list[TicketPriority] | None, Query(description="Repeat for several")] = None,
    assignee_id: AgentQuery = None,
    team: AgentQuery = None,
    customer_id: uuid.UUID | None = None,
    due_before: Annotated[
        Timestamp | None, Query(description="Running SLA target due before this instant (RFC 3339, with offset)")
    ] = None,
    breached: Annotated[bool | None, Query(description="Some SLA target was breached")] = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> TicketsPublic:
    if due_before is not None and due_before.tzinfo is None:
        raise invalid_parameter(
            "query.due_before", "timezone required", "due_before needs a time zone offset (RFC 3339)."
        )
    filters = TicketFilters(
        status=status,
        type=type,
        priority=priority,
        assignee_id=assignee_id,
        team=team,
        customer_id=customer_id,
        due_before=due_before,
        breached=breached,
    )
    return _page(await use_cases.list_tickets(session, filters, limit=limit, cursor=cursor))


@list_router.get(
    "/queue",
    response_model=TicketsPublic,
    summary="An agent's or a team's queue: active tickets, soonest SLA due first",
    description="Exactly one of `assignee_id` and `team` (400 otherwise). Tickets without a running SLA target (paused, none) come last.",
)
async def queue(
    session: SessionDep,
    assignee_id: AgentQuery = None,
    team: AgentQuery = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> TicketsPublic:
    if (assignee_id is None) == (team is None):
        raise invalid_parameter(
            "query.assignee_id", "exactly one of assignee_id, team", "Give exactly one of assignee_id and team."
        )
    return _page(await use_cases.queue(session, assignee_id=assignee_id, team=team, limit=limit, cursor=cursor))


@list_router.get(
    "/at-risk",
    response_model=TicketsPublic,
    summary="Active tickets whose next SLA target is due within N minutes (soonest first)",
    description="Breached tickets are not listed (filter `GET /api/v1/tickets?breached=true`); paused ones cannot be at risk.",
)
async def at_risk(
    session: SessionDep,
    within_minutes: Annotated[int, Query(ge=1, le=7 * 24 * 60)] = 60,
    assignee_id: AgentQuery = None,
    team: AgentQuery = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> TicketsPublic:
    now = datetime.now(UTC)
    return _page(
        await use_cases.at_risk(
            session,
            now,
            timedelta(minutes=within_minutes),
            assignee_id=assignee_id,
            team=team,
            limit=limit,
            cursor=cursor,
        )
    )


@list_router.get(
    "/settings",
    response_model=TicketsSettingsPublic,
    summary="The settings that change this service's answers, and the state machine",
    description="The reopen window, survey validity, the default SLA policy (its calendar and targets at "
    "`/api/v1/sla-policies/{id}`; each ticket's `sla.policy_id` names its own) and the actions allowed from each status.",
)
async def tickets_settings(request: Request, session: SessionDep) -> TicketsSettingsPublic:
    settings = _settings(request)
    return TicketsSettingsPublic(
        reopen_window_hours=settings.reopen_window_hours,
        csat_valid_hours=settings.csat_valid_hours,
        nps_valid_hours=settings.nps_valid_hours,
        default_sla_policy_id=await default_policy_id(session),
        actions={
            status: allowed_actions(status) for status in ("new", "open", "pending_customer", "resolved", "closed")
        },
    )


@item_router.get("/{ticket_id}", response_model=TicketPublic, summary="One ticket with its SLA state")
async def get_ticket(ticket_id: uuid.UUID, session: SessionDep) -> JSONResponse:
    return _answer(await use_cases.get_ticket(session, ticket_id))


@item_router.patch(
    "/{ticket_id}",
    response_model=TicketPublic,
    summary="Change a ticket's fields (If-Match)",
    description="A priority or type change re-targets the SLA clocks from the policy chosen at opening; time already used still counts. "
    "The status changes only by the actions (`POST /api/v1/tickets/{id}/<action>`).",
    responses=problem_responses(
        {
            409: "The ticket is closed (ticket-closed), or its customer erased and the change sets subject or description (customer-erased)"
        }
    ),
)
async def update_ticket(
    ticket_id: uuid.UUID, body: TicketUpdate, session: SessionDep, if_match: RequiredIfMatchHeader
) -> JSONResponse:
    now = datetime.now(UTC)
    changes = body.model_dump(exclude_unset=True)
    if "tags" in changes:
        changes["tags"] = list(dict.fromkeys(changes["tags"]))
    async with session.begin():
        return _answer(await use_cases.update_ticket(session, ticket_id, changes, if_match=if_match, now=now))


_ACTION_SUMMARIES: dict[Action, str] = {
    "start": "Take into work",
    "wait": "Wait for the customer (SLA clocks pause)",
    "resume": "Resume after the customer answered (SLA clocks run again)",
    "resolve": "Resolve (issues a CSAT survey, returned once in `survey`)",
    "close": "Close (final)",
    "reopen": "Reopen, within the reopen window after resolving",
}


def _action_route(action: Action) -> None:
    moves = ", ".join(f"{source} → {target}" for source, target in ACTIONS[action].items())
    conflict = "The action is not allowed from the current status (illegal-transition: `current_status` and `allowed_actions` name them)"
    if action == "reopen":
        conflict += "; or the reopen window has passed (reopen-window-passed: open a new ticket)"

    async def act(
        request: Request, ticket_id: uuid.UUID, session: SessionDep, if_match: IfMatchHeader = None
    ) -> JSONResponse:
        settings = _settings(request)
        now = datetime.now(UTC)
        async with session.begin():
            try:
                state = await use_cases.act(
                    session,
                    ticket_id,
                    action,
                    if_match=if_match,
                    now=now,
                    reopen_window=settings.reopen_window,
                    survey_valid=timedelta(hours=settings.csat_valid_hours),
                )
            except IllegalTransition as error:
                raise illegal_transition(error) from None
            return _answer(state)

    act.__name__ = f"{action}_ticket"
    item_router.add_api_route(
        f"/{{ticket_id}}/{action}",
        act,
        methods=["POST"],
        response_model=TicketPublic,
        summary=f"{_ACTION_SUMMARIES[action]}: {moves}",
        description="If-Match is optional: when sent it must match the current ETag (412 otherwise).",
        responses=problem_responses({409: conflict}),
    )


for _action in ACTIONS:
    _action_route(_action)
