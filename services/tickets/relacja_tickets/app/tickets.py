"""Ticket use cases, in the caller's transaction: opening, reading, changing, acting.

Every change works on a ticket row locked ``FOR UPDATE`` (``lock_ticket``), keeps its SLA
clocks in step (``domain/sla.py`` through ``clocks.py``) and writes the events of the
change to the outbox. The HTTP routes only parse, call these and answer.

    open_ticket        the customer checked (projection, read-through on a miss), insert,
                       clocks from the team's policy, TicketOpenedV1
    get_ticket         one ticket with its clocks
    list_tickets, queue, at_risk
                       pages of tickets with their clocks
    update_ticket      field changes (If-Match required); a priority or type change re-targets
    act                an action of the state machine (domain/lifecycle.py): pausing, resuming,
                       meeting, reopening clocks; TicketResolvedV1 (+ a CSAT survey) /
                       TicketReopenedV1 / TicketClosedV1
    after_comment      a first public agent answer meets the first-response target
                       (TicketFirstRespondedV1); a customer's reply resumes a pending ticket

An illegal action raises ``domain.lifecycle.IllegalTransition`` (api/ maps it to 409);
a missing ticket, a closed or erased one are problems (404 / 409) as raised here.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import (
    TicketClosedV1,
    TicketFirstRespondedV1,
    TicketOpenedV1,
    TicketReopenedV1,
    TicketResolvedV1,
)
from relacja_servicekit import Problem
from relacja_servicekit.customer_directory import CustomerDirectory, require_customer
from relacja_servicekit.etags import check_if_match
from relacja_servicekit.pagination import Page, paginate

from ..domain import sla
from ..domain.lifecycle import Action, Transition, check_action, check_transition
from ..domain.sla import SlaClock, Target
from ..events import emit, snapshot
from ..tables import FAR_FUTURE, is_active, known_customers, tickets
from .clocks import Policy, clocks_of, load_clocks, load_policy, next_due_at, policy_for_team, save_clocks
from .surveys import IssuedSurvey, issue_survey

__all__ = [
    "TicketState",
    "TicketPage",
    "TicketFilters",
    "ticket_not_found",
    "lock_ticket",
    "save_ticket",
    "open_ticket",
    "get_ticket",
    "list_tickets",
    "queue",
    "at_risk",
    "update_ticket",
    "act",
    "after_comment",
    "retarget_clocks",
]


@dataclass(frozen=True)
class TicketState:
    """A ticket row with its SLA clocks, and the survey an action issued (resolve only)."""

    row: Any
    clocks: Mapping[Target, SlaClock]
    survey: IssuedSurvey | None = None


@dataclass(frozen=True)
class TicketPage:
    items: list[TicketState]
    next_cursor: str | None


@dataclass(frozen=True)
class TicketFilters:
    """``GET /api/v1/tickets`` filters; None or empty: no filter."""

    status: Sequence[str] | None = None
    type: Sequence[str] | None = None
    priority: Sequence[str] | None = None
    assignee_id: str | None = None
    team: str | None = None
    customer_id: uuid.UUID | None = None
    due_before: datetime | None = None
    breached: bool | None = None


def ticket_not_found(ticket_id: uuid.UUID) -> Problem:
    return Problem(404, "Ticket not found", f"No ticket with id {ticket_id}.", type_="not-found")


def _reject_closed(row: Any, action: str) -> None:
    if row.status == "closed":
        raise Problem(409, "Ticket closed", f"Ticket {row.id} is closed; it cannot {action}.", type_="ticket-closed")


async def lock_ticket(session: AsyncSession, ticket_id: uuid.UUID) -> Any:
    row = (await session.execute(select(tickets).where(tickets.c.id == ticket_id).with_for_update())).first()
    if row is None:
        raise ticket_not_found(ticket_id)
    return row


async def save_ticket(
    session: AsyncSession, ticket_id: uuid.UUID, values: Mapping[str, Any], *, bump: bool = True
) -> Any:
    """Update the ticket row (a new version if ``bump``); the row after the update."""
    changes = dict(values)
    if bump:
        changes["version"] = tickets.c.version + 1
    return (
        await session.execute(update(tickets).where(tickets.c.id == ticket_id).values(**changes).returning(tickets))
    ).one()


def _clock_values(clocks: Mapping[Target, SlaClock]) -> dict[str, Any]:
    return {
        "next_due_at": next_due_at(clocks),
        "sla_breached": any(c.breached_at is not None for c in clocks.values()),
    }


def _within(clock: SlaClock | None) -> bool | None:
    if clock is None:
        return None
    return clock.breached_at is None and clock.elapsed_seconds <= clock.target_seconds


async def open_ticket(
    session: AsyncSession, directory: CustomerDirectory, values: Mapping[str, Any], now: datetime
) -> TicketState:
    """Open a ticket with ``values`` (the TicketCreate fields) for an active customer."""
    # The projection first; the customers service once on a miss (read-through), so a
    # client can open a ticket for a customer it created a moment ago.
    await require_customer(session, known_customers, directory, values["customer_id"], service="tickets")
    policy = await policy_for_team(session, values.get("team"))
    rule = sla.rule_for(policy.rules, values["priority"], values["type"]) if policy else None
    clocks: dict[Target, SlaClock] = {}
    if policy is not None and rule is not None:
        clocks = {
            target: sla.start_clock(policy.calendar, target, rule.seconds_for(target), now) for target in sla.TARGETS
        }
    ticket_id = uuid.uuid4()
    row = (
        await session.execute(
            insert(tickets)
            .values(
                id=ticket_id,
                **values,
                status="new",
                policy_id=policy.id if clocks and policy else None,
                version=1,
                opened_at=now,
                updated_at=now,
                **(_clock_values(clocks) if clocks else {"next_due_at": FAR_FUTURE, "sla_breached": False}),
            )
            .returning(tickets)
        )
    ).one()
    await save_clocks(session, ticket_id, clocks)
    await emit(session, TicketOpenedV1(**snapshot(row, now), tags=row.tags))
    return TicketState(row, clocks)


async def get_ticket(session: AsyncSession, ticket_id: uuid.UUID) -> TicketState:
    row = (await session.execute(select(tickets).where(tickets.c.id == ticket_id))).first()
    if row is None:
        raise ticket_not_found(ticket_id)
    return TicketState(row, await load_clocks(session, ticket_id))


async def _page(
    session: AsyncSession,
    query: Select[Any],
    keys: list[Any],
    *,
    limit: int,
    cursor: str | None,
    sort: str,
    descending: bool = False,
) -> TicketPage:
    page: Page[Any] = await paginate(
        session, query, keys=keys, limit=limit, cursor=cursor, sort=sort, descending=descending, to_item=lambda row: row
    )
    clocks = await clocks_of(session, [row.id for row in page.items])
    return TicketPage(
        items=[TicketState(row, clocks.get(row.id, {})) for row in page.items], next_cursor=page.next_cursor
    )


async def list_tickets(session: AsyncSession, filters: TicketFilters, *, limit: int, cursor: str | None) -> TicketPage:
    """Newest first."""
    c = tickets.c
    query = select(tickets)
    if filters.status:
        query = query.where(c.status.in_(filters.status))
    if filters.type:
        query = query.where(c.type.in_(filters.type))
    if filters.priority:
        query = query.where(c.priority.in_(filters.priority))
    if filters.assignee_id is not None:
        query = query.where(c.assignee_id == filters.assignee_id)
    if filters.team is not None:
        query = query.where(c.team == filters.team)
    if filters.customer_id is not None:
        query = query.where(c.customer_id == filters.customer_id)
    if filters.due_before is not None:
        query = query.where(c.next_due_at < filters.due_before)
    if filters.breached is not None:
        query = query.where(c.sla_breached.is_(filters.breached))
    return await _page(
        session, query, [c.opened_at, c.id], limit=limit, cursor=cursor, sort="-opened_at", descending=True
    )


async def queue(
    session: AsyncSession, *, assignee_id: str | None, team: str | None, limit: int, cursor: str | None
) -> TicketPage:
    """An agent's (``assignee_id``) or else a team's active tickets, soonest due first."""
    c = tickets.c
    owner = c.assignee_id == assignee_id if assignee_id is not None else c.team == team
    query = select(tickets).where(owner, is_active())
    return await _page(session, query, [c.next_due_at, c.id], limit=limit, cursor=cursor, sort="queue")


async def at_risk(
    session: AsyncSession,
    now: datetime,
    within: timedelta,
    *,
    assignee_id: str | None,
    team: str | None,
    limit: int,
    cursor: str | None,
) -> TicketPage:
    """Active tickets whose next due time is in ``[now, now + within)``, soonest first."""
    c = tickets.c
    query = select(tickets).where(is_active(), c.next_due_at >= now, c.next_due_at < now + within)
    if assignee_id is not None:
        query = query.where(c.assignee_id == assignee_id)
    if team is not None:
        query = query.where(c.team == team)
    return await _page(session, query, [c.next_due_at, c.id], limit=limit, cursor=cursor, sort="due")


async def update_ticket(
    session: AsyncSession, ticket_id: uuid.UUID, changes: Mapping[str, Any], *, if_match: str | None, now: datetime
) -> TicketState:
    """Change fields (``changes``: the fields sent); If-Match required."""
    row = await lock_ticket(session, ticket_id)
    check_if_match(if_match, row.version, required=True, what="ticket")
    _reject_closed(row, "be changed")
    if row.erased_at is not None and ({"subject", "description"} & changes.keys()):
        raise Problem(
            409,
            "Customer erased",
            "The customer's data was erased; subject and description stay empty.",
            type_="customer-erased",
        )
    changed = {k: v for k, v in changes.items() if getattr(row, k) != v}
    if changed:
        if "priority" in changed or "type" in changed:
            changed |= await retarget_clocks(
                session, row, changes.get("priority", row.priority), changes.get("type", row.type), now
            )
        row = await save_ticket(session, ticket_id, {**changed, "updated_at": now})
    return TicketState(row, await load_clocks(session, ticket_id))


async def act(
    session: AsyncSession,
    ticket_id: uuid.UUID,
    action: Action,
    *,
    if_match: str | None,
    now: datetime,
    reopen_window: timedelta,
    survey_valid: timedelta,
) -> TicketState:
    """Apply ``action``; If-Match optional (checked when sent); ``IllegalTransition`` when not allowed."""
    row = await lock_ticket(session, ticket_id)
    check_if_match(if_match, row.version, what="ticket")
    transition = check_action(action, row.status, resolved_at=row.resolved_at, now=now, reopen_window=reopen_window)
    return await _move(session, row, transition, now, survey_valid=survey_valid)


async def _move(
    session: AsyncSession, ticket: Any, transition: Transition, now: datetime, *, survey_valid: timedelta
) -> TicketState:
    """Carry out a checked transition: clocks, timestamps, the version, events, a CSAT survey."""
    target = transition.target
    policy = await load_policy(session, ticket.policy_id)
    clocks = await load_clocks(session, ticket.id) if policy else {}
    values: dict[str, Any] = {"status": target, "updated_at": now}
    survey: IssuedSurvey | None = None

    if policy and clocks:
        calendar = policy.calendar
        if transition.pauses:
            clocks = {t: sla.pause(calendar, c, now) for t, c in clocks.items()}
        elif transition.resumes:
            clocks = {t: sla.resume(calendar, c, now) for t, c in clocks.items()}
        elif transition.is_reopen:
            clocks = {t: sla.reopen(calendar, c, now) if t == "resolution" else c for t, c in clocks.items()}
        elif target == "resolved":
            # Resolving answers the customer too: an unmet first-response target is met now.
            clocks = {t: sla.meet(calendar, c, now) for t, c in clocks.items()}
        # new → open (start) and resolved → closed change no clock.
        values |= _clock_values(clocks)
        await save_clocks(session, ticket.id, clocks)

    if target == "resolved":
        resolution, first = clocks.get("resolution"), clocks.get("first_response")
        values |= {"resolved_at": now, "resolution_seconds": resolution.elapsed_seconds if resolution else None}
        if ticket.first_responded_at is None:  # the resolution is the first answer the customer gets
            values |= {"first_responded_at": now, "first_response_seconds": first.elapsed_seconds if first else None}
    elif transition.is_reopen:
        values |= {"resolved_at": None, "resolution_seconds": None}
    elif target == "closed":
        values |= {"closed_at": now}
    row = await save_ticket(session, ticket.id, values)

    if target == "resolved":
        resolution = clocks.get("resolution")
        seconds = resolution.elapsed_seconds if resolution else int((now - ticket.opened_at).total_seconds())
        await emit(
            session,
            TicketResolvedV1(**snapshot(row, now), business_seconds=max(seconds, 0), within_sla=_within(resolution)),
        )
        survey = await issue_survey(session, "csat", row.customer_id, row.id, now, survey_valid)
    elif transition.is_reopen:
        await emit(session, TicketReopenedV1(**snapshot(row, now)))
    elif target == "closed":
        await emit(session, TicketClosedV1(**snapshot(row, now)))
    return TicketState(row, clocks, survey)


async def after_comment(session: AsyncSession, ticket: Any, *, author_type: str, public: bool, now: datetime) -> Any:
    """The ticket after a comment: first response, or the customer's reply resuming the clocks."""
    if author_type == "agent" and public and ticket.first_responded_at is None:
        policy = await load_policy(session, ticket.policy_id)
        clocks = await load_clocks(session, ticket.id) if policy else {}
        first = clocks.get("first_response")
        values: dict[str, Any] = {"first_responded_at": now, "updated_at": now}
        if ticket.status == "new":
            values["status"] = "open"
        if policy and first is not None:
            clocks["first_response"] = first = sla.meet(policy.calendar, first, now)
            await save_clocks(session, ticket.id, clocks)
            values |= _clock_values(clocks)
        seconds = first.elapsed_seconds if first is not None else int((now - ticket.opened_at).total_seconds())
        values["first_response_seconds"] = seconds
        row = await save_ticket(session, ticket.id, values)
        await emit(
            session,
            TicketFirstRespondedV1(**snapshot(row, now), business_seconds=max(seconds, 0), within_sla=_within(first)),
        )
        return row
    if author_type == "customer" and ticket.status == "pending_customer":
        transition = check_transition(
            ticket.status, "open", resolved_at=ticket.resolved_at, now=now, reopen_window=timedelta(0)
        )
        return (await _move(session, ticket, transition, now, survey_valid=timedelta(0))).row
    return ticket


async def retarget_clocks(
    session: AsyncSession, ticket: Any, priority: str, type_: str, now: datetime
) -> dict[str, Any]:
    """New targets after a priority or type change (the policy chosen at opening stays)."""
    policy: Policy | None = await load_policy(session, ticket.policy_id)
    if policy is None:
        return {}
    rule = sla.rule_for(policy.rules, priority, type_)
    clocks = await load_clocks(session, ticket.id)
    if rule is None or not clocks:
        return {}
    clocks = {t: sla.retarget(policy.calendar, c, rule.seconds_for(t), now) for t, c in clocks.items()}
    await save_clocks(session, ticket.id, clocks)
    return _clock_values(clocks)
