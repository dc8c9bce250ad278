"""Reading and writing a ticket's SLA clocks and the policy that drives them.

The arithmetic is in ``domain/sla.py``; this module only moves clocks between rows and
``SlaClock`` values, finds a team's policy, and keeps ``tickets.next_due_at`` /
``tickets.sla_breached`` in step with the clocks (the sort and filter keys of queues).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.business_time import Calendar
from ..domain.calendars import to_calendar
from ..domain.sla import SlaClock, SlaRule, Target
from ..tables import FAR_FUTURE, sla_clocks, sla_policies

__all__ = [
    "Policy",
    "policy_for_team",
    "load_policy",
    "load_clocks",
    "clocks_of",
    "save_clocks",
    "next_due_at",
    "rules_of",
]


class Policy:
    """A policy row with its calendar and rules parsed."""

    def __init__(self, row: Any) -> None:
        self.id: uuid.UUID = row.id
        self.row = row
        self.calendar: Calendar = to_calendar(
            row.time_zone,
            {day: [tuple(i) for i in intervals] for day, intervals in row.working_hours.items()},
            [d if isinstance(d, date) else date.fromisoformat(d) for d in row.holidays],
        )
        self.rules = rules_of(row.rules)


def rules_of(raw: Iterable[Mapping[str, Any]]) -> list[SlaRule]:
    return [
        SlaRule(
            priorities=tuple(rule.get("priorities", ())),
            types=tuple(rule.get("types", ())),
            first_response_minutes=rule["first_response_minutes"],
            resolution_minutes=rule["resolution_minutes"],
        )
        for rule in raw
    ]


async def policy_for_team(session: AsyncSession, team: str | None) -> Policy | None:
    """The team's own policy, else the default one (team NULL), else None."""
    c = sla_policies.c
    query = select(sla_policies).where(or_(c.team.is_(None), c.team == team) if team else c.team.is_(None))
    rows = (await session.execute(query)).all()
    own = next((row for row in rows if row.team is not None), None)
    chosen = own or next(iter(rows), None)
    return Policy(chosen) if chosen is not None else None


async def load_policy(session: AsyncSession, policy_id: uuid.UUID | None) -> Policy | None:
    if policy_id is None:
        return None
    row = (await session.execute(select(sla_policies).where(sla_policies.c.id == policy_id))).first()
    return Policy(row) if row is not None else None


def _clock(row: Any) -> SlaClock:
    return SlaClock(
        target=row.target,
        target_seconds=row.target_seconds,
        elapsed_seconds=row.elapsed_seconds,
        running_since=row.running_since,
        due_at=row.due_at,
        met_at=row.met_at,
        breached_at=row.breached_at,
    )


async def load_clocks(session: AsyncSession, ticket_id: uuid.UUID) -> dict[Target, SlaClock]:
    return (await clocks_of(session, [ticket_id])).get(ticket_id, {})


async def clocks_of(session: AsyncSession, ticket_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[Target, SlaClock]]:
    if not ticket_ids:
        return {}
    rows = (await session.execute(select(sla_clocks).where(sla_clocks.c.ticket_id.in_(ticket_ids)))).all()
    found: dict[uuid.UUID, dict[Target, SlaClock]] = {}
    for row in rows:
        found.setdefault(row.ticket_id, {})[row.target] = _clock(row)
    return found


async def save_clocks(session: AsyncSession, ticket_id: uuid.UUID, clocks: Mapping[Target, SlaClock]) -> None:
    """Replace the ticket's clock rows (two at most; simpler than an upsert per column)."""
    await session.execute(delete(sla_clocks).where(sla_clocks.c.ticket_id == ticket_id))
    if clocks:
        await session.execute(
            insert(sla_clocks).values([{"ticket_id": ticket_id, **asdict(clock)} for clock in clocks.values()])
        )


def next_due_at(clocks: Mapping[Target, SlaClock]) -> datetime:
    """The earliest due instant of a running, unmet clock; ``FAR_FUTURE`` if none runs."""
    dues = [
        c.due_at for c in clocks.values() if c.met_at is None and c.running_since is not None and c.due_at is not None
    ]
    return min(dues, default=FAR_FUTURE)
