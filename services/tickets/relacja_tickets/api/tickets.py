"""Tickets: ``/api/v1/tickets``.

    POST  /api/v1/tickets                       open one (Idempotency-Key) for an active customer; TicketOpenedV1
    GET   /api/v1/tickets                       newest first; status, type, priority, assignee_id, team,
                                                customer_id, due_before, breached filters
    GET   /api/v1/tickets/queue                 an agent's (assignee_id) or team's active tickets, soonest due first
    GET   /api/v1/tickets/at-risk               active tickets due within ``within_minutes`` (not yet breached)
    GET   /api/v1/tickets/{id}                  with ETag and its SLA state
    PATCH /api/v1/tickets/{id}                  change fields (If-Match)
    POST  /api/v1/tickets/{id}/status           move in the state machine (If-Match); 409 when illegal

The fixed paths (queue, at-risk, metrics, customers/…) are registered before ``/{id}``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import Select, select

from relacja_contracts.events.tickets import TicketPriority, TicketStatus, TicketType
from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.customer_directory import CustomerDirectoryDep, require_customer
from relacja_servicekit.idempotency import IdempotencyKeyHeader
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page, paginate
from relacja_servicekit.validation import RequireJson

from ..clocks import clocks_of, load_clocks
from ..settings import TicketsSettings
from ..tables import is_active, known_customers, tickets
from ..workflow import change_status, lock_ticket, open_ticket, retarget_clocks, save_ticket, ticket_not_found
from .http import PROBLEM, claim_key, created, etag, invalid, require_if_match
from .schemas import StatusChange, TicketCreate, TicketPublic, TicketsPublic, TicketUpdate, ticket_public

__all__ = ["list_router", "item_router"]

# Two routers so that main.py can put the fixed paths of other modules between them.
list_router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"], dependencies=[RequireJson])
item_router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"], dependencies=[RequireJson])

_CREATE_SCOPE = "tickets.create"
IfMatch = Annotated[str | None, Header(alias="If-Match", description="The ETag of the version you changed")]
AgentQuery = Annotated[str | None, Query(min_length=1, max_length=200)]


def _settings(request: Request) -> TicketsSettings:
    return request.app.state.settings


async def _page(session: Any, query: Select[Any], keys: list[Any], *, limit: int, cursor: str | None, sort: str, descending: bool = False) -> TicketsPublic:
    page: Page[Any] = await paginate(session, query, keys=keys, limit=limit, cursor=cursor, sort=sort, descending=descending, to_item=lambda row: row)
    clocks = await clocks_of(session, [row.id for row in page.items])
    return TicketsPublic(items=[ticket_public(row, clocks.get(row.id, {})) for row in page.items], next_cursor=page.next_cursor)


def _answer(ticket: TicketPublic, status_code: int = 200) -> JSONResponse:
    return JSONResponse(jsonable_encoder(ticket), status_code=status_code, headers={"ETag": etag(ticket.version)})


@list_router.post(
    "",
    status_code=201,
    response_model=TicketPublic,
    summary="Open a ticket",
    responses={
        422: {"description": "Invalid body; unknown, erased or merged customer", **PROBLEM},
        503: {"description": "The customers service could not be asked about a customer not projected yet (Retry-After)", **PROBLEM},
    },
)
async def create_ticket(
    body: TicketCreate, session: SessionDep, directory: CustomerDirectoryDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    now = datetime.now(UTC)
    body = body.model_copy(update={"tags": list(dict.fromkeys(body.tags))})
    async with session.begin():
        stored = await claim_key(session, _CREATE_SCOPE, idempotency_key, body)
        if stored:
            return stored.to_response()
        # The projection first; the customers service once on a miss (read-through).
        await require_customer(session, known_customers, directory, body.customer_id, service="tickets")
        row, clocks = await open_ticket(session, body, now)
        return await created(
            session, _CREATE_SCOPE, idempotency_key, ticket_public(row, clocks), location=f"/api/v1/tickets/{row.id}", version=row.version
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
    due_before: Annotated[datetime | None, Query(description="Running SLA target due before this instant (RFC 3339)")] = None,
    breached: Annotated[bool | None, Query(description="Some SLA target was breached")] = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> TicketsPublic:
    c = tickets.c
    query = select(tickets)
    if status:
        query = query.where(c.status.in_(status))
    if type:
        query = query.where(c.type.in_(type))
    if priority:
        query = query.where(c.priority.in_(priority))
    if assignee_id is not None:
        query = query.where(c.assignee_id == assignee_id)
    if team is not None:
        query = query.where(c.team == team)
    if customer_id is not None:
        query = query.where(c.customer_id == customer_id)
    if due_before is not None:
        if due_before.tzinfo is None:
            raise invalid(400, "due_before needs a time zone offset (RFC 3339).", [("query.due_before", "timezone required")], type_="invalid-parameter")
        query = query.where(c.next_due_at < due_before)
    if breached is not None:
        query = query.where(c.sla_breached.is_(breached))
    return await _page(session, query, [c.opened_at, c.id], limit=limit, cursor=cursor, sort="-opened_at", descending=True)


@list_router.get(
    "/queue",
    response_model=TicketsPublic,
    summary="An agent's or a team's queue: active tickets, soonest SLA due first",
    description="Exactly one of `assignee_id` and `team`. Tickets without a running SLA target (paused, none) come last.",
    responses={400: {"description": "Neither or both of assignee_id and team", **PROBLEM}},
)
async def queue(
    session: SessionDep,
    assignee_id: AgentQuery = None,
    team: AgentQuery = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> TicketsPublic:
    if (assignee_id is None) == (team is None):
        raise invalid(400, "Give exactly one of assignee_id and team.", [("query.assignee_id", "exactly one of assignee_id, team")], type_="invalid-parameter")
    c = tickets.c
    owner = c.assignee_id == assignee_id if assignee_id is not None else c.team == team
    query = select(tickets).where(owner, is_active())
    return await _page(session, query, [c.next_due_at, c.id], limit=limit, cursor=cursor, sort="queue")


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
    c = tickets.c
    query = select(tickets).where(
        is_active(), c.next_due_at >= now, c.next_due_at < now + timedelta(minutes=within_minutes)
    )
    if assignee_id is not None:
        query = query.where(c.assignee_id == assignee_id)
    if team is not None:
        query = query.where(c.team == team)
    return await _page(session, query, [c.next_due_at, c.id], limit=limit, cursor=cursor, sort="due")


@item_router.get("/{ticket_id}", response_model=TicketPublic, summary="One ticket with its SLA state", responses={404: PROBLEM})
async def get_ticket(ticket_id: uuid.UUID, session: SessionDep) -> JSONResponse:
    row = (await session.execute(select(tickets).where(tickets.c.id == ticket_id))).first()
    if row is None:
        raise ticket_not_found(ticket_id)
    return _answer(ticket_public(row, await load_clocks(session, ticket_id)))


def _reject_closed(row: Any, action: str) -> None:
    if row.status == "closed":
        raise Problem(409, "Ticket closed", f"Ticket {row.id} is closed; it cannot {action}.", type_="ticket-closed")


@item_router.patch(
    "/{ticket_id}",
    response_model=TicketPublic,
    summary="Change a ticket's fields (If-Match)",
    description="A priority or type change re-targets the SLA clocks from the policy chosen at opening; time already used still counts.",
    responses={404: PROBLEM, 409: {"description": "Closed or erased", **PROBLEM}, 412: PROBLEM, 428: PROBLEM},
)
async def update_ticket(ticket_id: uuid.UUID, body: TicketUpdate, session: SessionDep, if_match: IfMatch = None) -> JSONResponse:
    now = datetime.now(UTC)
    changes = body.model_dump(exclude_unset=True)
    for required in ("type", "channel", "priority", "subject"):
        if required in changes and changes[required] is None:
            raise invalid(422, f"{required} cannot be cleared.", [(f"body.{required}", "must not be null")])
    if "tags" in changes:
        changes["tags"] = list(dict.fromkeys(changes["tags"] or []))
    async with session.begin():
        row = await lock_ticket(session, ticket_id)
        require_if_match(if_match, row.version, "ticket")
        _reject_closed(row, "be changed")
        if row.erased_at is not None and ({"subject", "description"} & changes.keys()):
            raise Problem(409, "Customer erased", "The customer's data was erased; subject and description stay empty.", type_="customer-erased")
        changed = {k: v for k, v in changes.items() if getattr(row, k) != v}
        if changed:
            if "priority" in changed or "type" in changed:
                changed |= await retarget_clocks(session, row, changes.get("priority", row.priority), changes.get("type", row.type), now)
            row = await save_ticket(session, ticket_id, {**changed, "updated_at": now})
        return _answer(ticket_public(row, await load_clocks(session, ticket_id)))


@item_router.post(
    "/{ticket_id}/status",
    response_model=TicketPublic,
    summary="Move the ticket in its state machine (If-Match)",
    description=(
        "new → open | pending_customer | resolved; open → pending_customer | resolved; pending_customer → open | resolved; "
        "resolved → closed, or → open (a reopen, within the reopen window). Resolving issues a CSAT survey, returned once in `survey`."
    ),
    responses={404: PROBLEM, 409: {"description": "Illegal transition or reopen window passed", **PROBLEM}, 412: PROBLEM, 428: PROBLEM},
)
async def set_status(ticket_id: uuid.UUID, body: StatusChange, request: Request, session: SessionDep, if_match: IfMatch = None) -> JSONResponse:
    settings = _settings(request)
    now = datetime.now(UTC)
    async with session.begin():
        row = await lock_ticket(session, ticket_id)
        require_if_match(if_match, row.version, "ticket")
        row, clocks, survey = await change_status(
            session, row, body.status, now,
            reopen_window=settings.reopen_window, survey_valid=timedelta(hours=settings.csat_valid_hours),
        )
        return _answer(ticket_public(row, clocks, survey))

