"""What happens to a ticket, in the caller's transaction: opening, changes, status
transitions, the effects of a comment, issuing surveys.

Every function here works on a ticket row locked ``FOR UPDATE`` (``lock_ticket``), keeps
its SLA clocks in step (``domain/sla.py``) and writes the events of the change to the
outbox. The HTTP routes only parse, check preconditions and answer.

    open_ticket        insert + clocks from the team's policy + TicketOpenedV1
    change_status      the state machine (domain/lifecycle.py), pausing, meeting, reopening
                       clocks; TicketResolvedV1 (+ a CSAT survey) / TicketReopenedV1 / TicketClosedV1
    after_comment      a first public agent answer meets the first-response target
                       (TicketFirstRespondedV1); a customer's reply ends "pending customer"
    retarget_clocks    the priority or type changed: targets from the same policy
    issue_survey       a one-time token (only its hash is stored)
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import (
    TicketClosedV1,
    TicketFirstRespondedV1,
    TicketOpenedV1,
    TicketReopenedV1,
    TicketResolvedV1,
)
from relacja_servicekit import Problem

from .api.schemas import IssuedSurvey, TicketCreate
from .clocks import Policy, load_clocks, load_policy, next_due_at, policy_for_team, save_clocks
from .domain import sla
from .domain.lifecycle import IllegalTransition, check_transition
from .domain.sla import SlaClock, Target
from .domain.surveys import new_token, token_hash
from .events import emit, snapshot
from .tables import FAR_FUTURE, surveys, tickets

__all__ = ["lock_ticket", "open_ticket", "change_status", "after_comment", "retarget_clocks", "issue_survey", "save_ticket"]


def ticket_not_found(ticket_id: uuid.UUID) -> Problem:
    return Problem(404, "Ticket not found", f"No ticket with id {ticket_id}.", type_="not-found")


async def lock_ticket(session: AsyncSession, ticket_id: uuid.UUID) -> Any:
    row = (await session.execute(select(tickets).where(tickets.c.id == ticket_id).with_for_update())).first()
    if row is None:
        raise ticket_not_found(ticket_id)
    return row


async def save_ticket(session: AsyncSession, ticket_id: uuid.UUID, values: Mapping[str, Any], *, bump: bool = True) -> Any:
    """Update the ticket row (a new version if ``bump``); the row after the update."""
    changes = dict(values)
    if bump:
        changes["version"] = tickets.c.version + 1
    return (await session.execute(update(tickets).where(tickets.c.id == ticket_id).values(**changes).returning(tickets))).one()


def _clock_values(clocks: Mapping[Target, SlaClock]) -> dict[str, Any]:
    return {
        "next_due_at": next_due_at(clocks),
        "sla_breached": any(c.breached_at is not None for c in clocks.values()),
    }


async def open_ticket(session: AsyncSession, body: TicketCreate, now: datetime) -> tuple[Any, dict[Target, SlaClock]]:
    policy = await policy_for_team(session, body.team)
    rule = sla.rule_for(policy.rules, body.priority, body.type) if policy else None
    clocks: dict[Target, SlaClock] = {}
    if policy is not None and rule is not None:
        clocks = {target: sla.start_clock(policy.calendar, target, rule.seconds_for(target), now) for target in sla.TARGETS}
    ticket_id = uuid.uuid4()
    row = (
        await session.execute(
            insert(tickets)
            .values(
                id=ticket_id,
                **body.model_dump(),
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
    return row, clocks


def _within(clock: SlaClock | None) -> bool | None:
    if clock is None:
        return None
    return clock.breached_at is None and clock.elapsed_seconds <= clock.target_seconds


async def change_status(
    session: AsyncSession, ticket: Any, target: str, now: datetime, *, reopen_window: timedelta, survey_valid: timedelta
) -> tuple[Any, dict[Target, SlaClock], IssuedSurvey | None]:
    """Move ``ticket`` to ``target``; 409 for an illegal transition."""
    try:
        transition = check_transition(ticket.status, target, resolved_at=ticket.resolved_at, now=now, reopen_window=reopen_window)
    except IllegalTransition as illegal:
        raise Problem(
            409, "Illegal status change", illegal.detail, type_=illegal.reason,
            extra={"status": ticket.status, "requested": target},
        ) from None
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
        elif ticket.status == "new" and target == "open":
            pass  # taking a ticket into work changes no clock
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
        await emit(session, TicketResolvedV1(**snapshot(row, now), business_seconds=max(seconds, 0), within_sla=_within(resolution)))
        survey = await issue_survey(session, "csat", row.customer_id, row.id, now, survey_valid)
    elif transition.is_reopen:
        await emit(session, TicketReopenedV1(**snapshot(row, now)))
    elif target == "closed":
        await emit(session, TicketClosedV1(**snapshot(row, now)))
    return row, clocks, survey


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
        await emit(session, TicketFirstRespondedV1(**snapshot(row, now), business_seconds=max(seconds, 0), within_sla=_within(first)))
        return row
    if author_type == "customer" and ticket.status == "pending_customer":
        row, _, _ = await change_status(session, ticket, "open", now, reopen_window=timedelta(0), survey_valid=timedelta(0))
        return row
    return ticket


async def retarget_clocks(session: AsyncSession, ticket: Any, priority: str, type_: str, now: datetime) -> dict[str, Any]:
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


async def issue_survey(
    session: AsyncSession, kind: str, customer_id: uuid.UUID, ticket_id: uuid.UUID | None, now: datetime, valid: timedelta
) -> IssuedSurvey:
    token, survey_id, expires_at = new_token(), uuid.uuid4(), now + valid
    await session.execute(
        insert(surveys).values(
            id=survey_id,
            token_hash=token_hash(token),
            kind=kind,
            customer_id=customer_id,
            ticket_id=ticket_id,
            issued_at=now,
            expires_at=expires_at,
        )
    )
    return IssuedSurvey(id=survey_id, kind=kind, token=token, url_path=f"/api/v1/surveys/{token}", expires_at=expires_at)
