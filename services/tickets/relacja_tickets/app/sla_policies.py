"""SLA policies, in the caller's transaction: checking a definition, creating, replacing, reading.

    PolicyDefinition   what a client writes: calendar (time zone, hours per weekday, holidays) and rules
    check_policy       every problem of a definition (bad calendar, overlapping rules, a target the
                       calendar cannot reach) as ``InvalidPolicy``; else the row values
    create_policy, replace_policy, get_policy, list_policies

One policy per team and one default (team null): a second is ``DuplicatePolicy``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, get_args

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events.tickets import TicketPriority, TicketType
from relacja_servicekit import Problem
from relacja_servicekit.etags import check_if_match
from relacja_servicekit.pagination import Page, paginate

from ..domain.business_time import MAX_HORIZON_DAYS, add_business_seconds
from ..domain.calendars import calendar_errors, to_calendar
from ..domain.sla import overlapping_rules
from ..tables import sla_policies
from .clocks import rules_of

__all__ = [
    "PolicyDefinition",
    "InvalidPolicy",
    "DuplicatePolicy",
    "check_policy",
    "create_policy",
    "replace_policy",
    "get_policy",
    "list_policies",
    "default_policy_id",
]

_PRIORITIES: tuple[str, ...] = get_args(TicketPriority)
_TYPES: tuple[str, ...] = get_args(TicketType)


@dataclass(frozen=True)
class PolicyDefinition:
    name: str
    team: str | None
    time_zone: str
    working_hours: Mapping[str, Sequence[tuple[str, str]]]  # weekday → [(start, end)]; days off absent
    holidays: Sequence[date] = ()
    rules: Sequence[Mapping[str, Any]] = field(default_factory=list)


class InvalidPolicy(Exception):
    """``errors``: (field below ``body``, message); ``overlap`` when rules overlap."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        self.overlap = any("overlaps rule" in message for _, message in errors)
        super().__init__("The SLA policy has overlapping rules." if self.overlap else "The SLA policy is not valid.")


class DuplicatePolicy(Exception):
    def __init__(self, team: str | None) -> None:
        which = f"team {team!r}" if team else "the default (no team)"
        super().__init__(f"There is already an SLA policy for {which}; change that one.")
        self.team = team


def check_policy(policy: PolicyDefinition, now: datetime) -> dict[str, Any]:
    """The row values of a valid policy; ``InvalidPolicy`` naming every problem otherwise."""
    errors = calendar_errors(policy.time_zone, policy.working_hours)
    raw_rules = [dict(rule) for rule in policy.rules]
    for first, second in overlapping_rules(rules_of(raw_rules), _PRIORITIES, _TYPES):
        errors.append((f"rules.{second}", f"overlaps rule {first}: both match some (priority, type)"))
    if not errors:
        errors += _unreachable(policy, now)
    if errors:
        raise InvalidPolicy(errors)
    return {
        "name": policy.name,
        "team": policy.team,
        "time_zone": policy.time_zone,
        "working_hours": {
            day: [list(i) for i in intervals] for day, intervals in policy.working_hours.items() if intervals
        },
        "holidays": sorted(set(policy.holidays)),
        "rules": raw_rules,
    }


def _unreachable(policy: PolicyDefinition, now: datetime) -> list[tuple[str, str]]:
    """Rules whose targets the calendar cannot reach within the business-time horizon (e.g.
    a year of minutes with one working minute a week): refused now, not failing on every ticket."""
    calendar = to_calendar(policy.time_zone, policy.working_hours, policy.holidays)
    errors = []
    for index, rule in enumerate(policy.rules):
        try:
            add_business_seconds(calendar, now, 60 * max(rule["first_response_minutes"], rule["resolution_minutes"]))
        except ValueError:
            errors.append(
                (f"rules.{index}", f"not reachable within {MAX_HORIZON_DAYS} days of this calendar's working time")
            )
    return errors


def _not_found(policy_id: uuid.UUID) -> Problem:
    return Problem(404, "SLA policy not found", f"No SLA policy with id {policy_id}.", type_="not-found")


async def create_policy(session: AsyncSession, values: Mapping[str, Any], now: datetime) -> Any:
    """Insert checked ``values``; ``DuplicatePolicy`` if the team has one (in a savepoint, so the
    caller's transaction stays usable)."""
    try:
        async with session.begin_nested():
            return (
                await session.execute(
                    insert(sla_policies)
                    .values(id=uuid.uuid4(), **values, version=1, created_at=now, updated_at=now)
                    .returning(sla_policies)
                )
            ).one()
    except IntegrityError:
        raise DuplicatePolicy(values["team"]) from None


async def replace_policy(
    session: AsyncSession, policy_id: uuid.UUID, values: Mapping[str, Any], *, if_match: str | None, now: datetime
) -> Any:
    """Replace with checked ``values``; If-Match required."""
    row = (await session.execute(select(sla_policies).where(sla_policies.c.id == policy_id).with_for_update())).first()
    if row is None:
        raise _not_found(policy_id)
    check_if_match(if_match, row.version, required=True, what="SLA policy")
    try:
        async with session.begin_nested():
            return (
                await session.execute(
                    update(sla_policies)
                    .where(sla_policies.c.id == policy_id)
                    .values(**values, version=row.version + 1, updated_at=now)
                    .returning(sla_policies)
                )
            ).one()
    except IntegrityError:
        raise DuplicatePolicy(values["team"]) from None


async def get_policy(session: AsyncSession, policy_id: uuid.UUID) -> Any:
    row = (await session.execute(select(sla_policies).where(sla_policies.c.id == policy_id))).first()
    if row is None:
        raise _not_found(policy_id)
    return row


async def list_policies(session: AsyncSession, *, limit: int, cursor: str | None) -> Page[Any]:
    c = sla_policies.c
    return await paginate(
        session,
        select(sla_policies),
        keys=[c.name, c.id],
        limit=limit,
        cursor=cursor,
        sort="name",
        to_item=lambda row: row,
    )


async def default_policy_id(session: AsyncSession) -> uuid.UUID | None:
    """The policy of tickets whose team has none of its own (None: such tickets get no SLA)."""
    return (await session.execute(select(sla_policies.c.id).where(sla_policies.c.team.is_(None)))).scalar_one_or_none()
