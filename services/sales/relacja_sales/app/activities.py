"""Activity use cases: calls, meetings and to-dos, under the caller's access rule (the
assignee is the owner).

    create_activity   linked to a deal the caller sees (its customer) and/or a customer;
                      the reminder checked against the deal's pipeline; an activity created
                      already done (``completed_at``: a call that took place) is logged
    update_activity   fields (If-Match); a new ``remind_at`` re-arms the reminder
    act               complete (a call or meeting → ActivityLoggedV1) or cancel
    overdue           open activities past their due time, soonest first
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import ActivityLoggedV1
from relacja_servicekit.customer_directory import CustomerDirectory, require_customer
from relacja_servicekit.etags import check_if_match
from relacja_servicekit.pagination import Page, paginate

from ..domain import activities as rules
from ..domain.access import Caller, can_see
from ..domain.deals import FieldError
from ..events import emit
from ..tables import activities, known_customers, opportunities, pipelines
from .common import field_problem, illegal_transition, invalid, not_found, visible

__all__ = ["ActivityFilters", "create_activity", "get_activity", "list_activities", "update_activity", "act", "overdue"]


@dataclass(frozen=True)
class ActivityFilters:
    assignee_id: str | None = None
    status: str | None = None
    kind: str | None = None
    opportunity_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None


async def _deal_rules(session: AsyncSession, caller: Caller, opportunity_id: uuid.UUID) -> tuple[Any, bool]:
    c = opportunities.c
    row = (
        await session.execute(
            select(c.id, c.customer_id, pipelines.c.late_reminders_allowed)
            .join(pipelines, pipelines.c.id == c.pipeline_id)
            .where(c.id == opportunity_id, visible(caller, c.owner_id, c.team))
        )
    ).first()
    if row is None:
        raise invalid("body.opportunity_id", "no such opportunity", type_="unknown-opportunity")
    return row, row.late_reminders_allowed


def _check_reminder(remind_at: datetime | None, due_at: datetime | None, late_allowed: bool) -> None:
    try:
        rules.check_reminder(remind_at, due_at, late_reminders_allowed=late_allowed)
    except FieldError as error:
        raise field_problem(error) from None


async def _log(session: AsyncSession, row: Any) -> None:
    if rules.is_logged_kind(row.kind):
        await emit(
            session,
            ActivityLoggedV1(
                customer_id=row.customer_id,
                activity_id=row.id,
                kind=row.kind,
                assignee_id=row.assignee_id,
                opportunity_id=row.opportunity_id,
                occurred_at=row.completed_at,
                duration_seconds=row.duration_seconds,
            ),
        )


async def create_activity(
    session: AsyncSession, directory: CustomerDirectory, caller: Caller, values: Mapping[str, Any], now: datetime
) -> Any:
    assignee = values.get("assignee_id") or caller.id
    team = values["team"] if values.get("team") is not None else caller.team
    if not can_see(caller, assignee, team):
        raise invalid("body.assignee_id", "you may assign activities only to yourself or within what you may see")
    customer_id = values.get("customer_id")
    late_allowed = True
    if values.get("opportunity_id") is not None:
        deal, late_allowed = await _deal_rules(session, caller, values["opportunity_id"])
        if customer_id is not None and customer_id != deal.customer_id:
            raise invalid("body.customer_id", "not the customer of the opportunity")
        customer_id = deal.customer_id
    elif customer_id is None:
        raise invalid("body.customer_id", "an activity is linked to an opportunity or a customer")
    else:
        await require_customer(session, known_customers, directory, customer_id, service="sales")
    _check_reminder(values.get("remind_at"), values.get("due_at"), late_allowed)
    completed_at = values.get("completed_at")
    if completed_at is not None and completed_at > now:
        raise invalid("body.completed_at", "must not be in the future")
    row = (
        await session.execute(
            insert(activities)
            .values(
                id=uuid.uuid4(),
                kind=values["kind"],
                customer_id=customer_id,
                opportunity_id=values.get("opportunity_id"),
                subject=values.get("subject"),
                assignee_id=assignee,
                team=team,
                status="done" if completed_at is not None else "open",
                due_at=values.get("due_at"),
                remind_at=values.get("remind_at") if completed_at is None else None,
                duration_seconds=values.get("duration_seconds"),
                completed_at=completed_at,
                created_at=now,
                updated_at=now,
                version=1,
            )
            .returning(activities)
        )
    ).one()
    if completed_at is not None:
        await _log(session, row)
    return row


async def get_activity(session: AsyncSession, caller: Caller, activity_id: uuid.UUID, *, lock: bool = False) -> Any:
    c = activities.c
    query = select(activities).where(c.id == activity_id, visible(caller, c.assignee_id, c.team))
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise not_found("activity", activity_id)
    return row


async def list_activities(
    session: AsyncSession, caller: Caller, filters: ActivityFilters, *, limit: int, cursor: str | None
) -> Page[Any]:
    c = activities.c
    query: Select[Any] = select(activities).where(visible(caller, c.assignee_id, c.team))
    for column, value in (
        (c.assignee_id, filters.assignee_id),
        (c.status, filters.status),
        (c.kind, filters.kind),
        (c.opportunity_id, filters.opportunity_id),
        (c.customer_id, filters.customer_id),
    ):
        if value is not None:
            query = query.where(column == value)
    return await paginate(
        session,
        query,
        keys=[c.created_at, c.id],
        limit=limit,
        cursor=cursor,
        sort="-created_at",
        descending=True,
        to_item=lambda row: row,
    )


async def _save(session: AsyncSession, activity_id: uuid.UUID, values: Mapping[str, Any]) -> Any:
    return (
        await session.execute(
            update(activities)
            .where(activities.c.id == activity_id)
            .values(**values, version=activities.c.version + 1)
            .returning(activities)
        )
    ).one()


async def update_activity(
    session: AsyncSession,
    caller: Caller,
    activity_id: uuid.UUID,
    changes: Mapping[str, Any],
    *,
    if_match: str,
    now: datetime,
) -> Any:
    row = await get_activity(session, caller, activity_id, lock=True)
    check_if_match(if_match, row.version, required=True, what="activity")
    if row.status != "open":
        raise illegal_transition("activity", row.status, "update", rules.allowed_actions(row.status))
    values = dict(changes)
    if "assignee_id" in values or "team" in values:
        assignee = values.get("assignee_id") or row.assignee_id
        values["assignee_id"] = assignee
        if not can_see(caller, assignee, values.get("team", row.team)):
            raise invalid("body.assignee_id", "you may assign activities only to yourself or within what you may see")
    late_allowed = True
    if row.opportunity_id is not None:
        late_allowed = bool(
            (
                await session.execute(
                    select(pipelines.c.late_reminders_allowed)
                    .join(opportunities, opportunities.c.pipeline_id == pipelines.c.id)
                    .where(opportunities.c.id == row.opportunity_id)
                )
            ).scalar_one()
        )
    _check_reminder(values.get("remind_at", row.remind_at), values.get("due_at", row.due_at), late_allowed)
    if "remind_at" in values and values["remind_at"] != row.remind_at:
        values["reminded_at"] = None  # a new reminder time is a new reminder
    if not values:
        return row
    return await _save(session, activity_id, {**values, "updated_at": now})


async def act(
    session: AsyncSession, caller: Caller, activity_id: uuid.UUID, action: str, *, if_match: str | None, now: datetime
) -> Any:
    row = await get_activity(session, caller, activity_id, lock=True)
    check_if_match(if_match, row.version, what="activity")
    target = rules.ACTIONS[action].get(row.status)
    if target is None:
        raise illegal_transition("activity", row.status, action, rules.allowed_actions(row.status))
    values: dict[str, Any] = {"status": target, "updated_at": now}
    if target == "done":
        values["completed_at"] = now
    updated = await _save(session, activity_id, values)
    if target == "done":
        await _log(session, updated)
    return updated


async def overdue(
    session: AsyncSession, caller: Caller, now: datetime, *, assignee_id: str | None, limit: int, cursor: str | None
) -> Page[Any]:
    """Open activities due before ``now``, soonest first (the caller's, or ``assignee_id``'s if visible)."""
    c = activities.c
    query: Select[Any] = select(activities).where(
        c.status == "open", c.due_at < now, visible(caller, c.assignee_id, c.team)
    )
    if assignee_id is not None:
        query = query.where(c.assignee_id == assignee_id)
    return await paginate(
        session, query, keys=[c.due_at, c.id], limit=limit, cursor=cursor, sort="due_at", to_item=lambda row: row
    )
