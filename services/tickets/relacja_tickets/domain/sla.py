"""SLA clocks and policy rules: pure functions over plain data.

    SlaClock          one target (first response or resolution) of one ticket
    start_clock       a running clock from the ticket's opening
    pause / resume    the ticket waits for the customer / stops waiting
    meet / reopen     the target is reached / a resolved ticket is reopened
    retarget          the priority or type changed: a new target, the elapsed time kept
    rule_for          the policy rule matching a ticket's priority and type
    overlapping_rules pairs of rules that match a common (priority, type): a bad policy

A clock counts business time (``business_time``) while running. ``elapsed_seconds`` is
the business time used up to ``running_since``; while running, the due instant is
``running_since`` plus what is left of the target in business time. A paused clock has
no due instant (it cannot breach); resuming it starts a new running stretch with the
remaining budget. Breach is a fact recorded by the scheduler (``breached_at``) when the
due instant passes with the clock still running; meeting the target later does not
undo it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from .business_time import Calendar, add_business_seconds, business_seconds_between

__all__ = [
    "SlaClock",
    "SlaRule",
    "Target",
    "TARGETS",
    "start_clock",
    "pause",
    "resume",
    "meet",
    "reopen",
    "retarget",
    "elapsed_at",
    "rule_for",
    "overlapping_rules",
]

Target = Literal["first_response", "resolution"]
TARGETS: tuple[Target, ...] = ("first_response", "resolution")


@dataclass(frozen=True)
class SlaClock:
    target: Target
    target_seconds: int
    elapsed_seconds: int = 0
    running_since: datetime | None = None
    due_at: datetime | None = None
    met_at: datetime | None = None
    breached_at: datetime | None = None

    @property
    def paused(self) -> bool:
        return self.met_at is None and self.running_since is None

    @property
    def state(self) -> str:
        """``met``, ``breached`` (also when met late), ``paused`` or ``running``."""
        if self.breached_at is not None:
            return "breached"
        if self.met_at is not None:
            return "met"
        return "paused" if self.running_since is None else "running"


def _due(calendar: Calendar, running_since: datetime, target_seconds: int, elapsed_seconds: int) -> datetime:
    return add_business_seconds(calendar, running_since, max(target_seconds - elapsed_seconds, 0))


def start_clock(calendar: Calendar, target: Target, target_seconds: int, now: datetime) -> SlaClock:
    return SlaClock(target, target_seconds, 0, now, _due(calendar, now, target_seconds, 0))


def elapsed_at(calendar: Calendar, clock: SlaClock, now: datetime) -> int:
    """Business seconds used by ``now`` (pauses excluded)."""
    if clock.running_since is None:
        return clock.elapsed_seconds
    return clock.elapsed_seconds + business_seconds_between(calendar, clock.running_since, now)


def pause(calendar: Calendar, clock: SlaClock, now: datetime) -> SlaClock:
    if clock.running_since is None:
        return clock
    return replace(clock, elapsed_seconds=elapsed_at(calendar, clock, now), running_since=None, due_at=None)


def resume(calendar: Calendar, clock: SlaClock, now: datetime) -> SlaClock:
    if clock.running_since is not None or clock.met_at is not None:
        return clock
    return replace(clock, running_since=now, due_at=_due(calendar, now, clock.target_seconds, clock.elapsed_seconds))


def meet(calendar: Calendar, clock: SlaClock, now: datetime) -> SlaClock:
    if clock.met_at is not None:
        return clock
    return replace(clock, elapsed_seconds=elapsed_at(calendar, clock, now), running_since=None, met_at=now)


def reopen(calendar: Calendar, clock: SlaClock, now: datetime) -> SlaClock:
    """A met clock runs again from ``now`` with the time it had already used (resolution after a reopen)."""
    if clock.met_at is None:
        return clock
    return replace(
        clock,
        met_at=None,
        running_since=now,
        due_at=_due(calendar, now, clock.target_seconds, clock.elapsed_seconds),
    )


def retarget(calendar: Calendar, clock: SlaClock, target_seconds: int, now: datetime) -> SlaClock:
    """A new target for an unmet clock; the business time already used still counts."""
    if clock.met_at is not None or clock.target_seconds == target_seconds:
        return clock
    if clock.running_since is None:
        return replace(clock, target_seconds=target_seconds)
    used = elapsed_at(calendar, clock, now)
    return replace(
        clock,
        target_seconds=target_seconds,
        elapsed_seconds=used,
        running_since=now,
        due_at=_due(calendar, now, target_seconds, used),
    )


@dataclass(frozen=True)
class SlaRule:
    """Targets for tickets of some priorities and types (an empty list matches all)."""

    priorities: Sequence[str]
    types: Sequence[str]
    first_response_minutes: int
    resolution_minutes: int

    def matches(self, priority: str, type_: str) -> bool:
        return (not self.priorities or priority in self.priorities) and (not self.types or type_ in self.types)

    def seconds_for(self, target: Target) -> int:
        return 60 * (self.first_response_minutes if target == "first_response" else self.resolution_minutes)


def rule_for(rules: Sequence[SlaRule], priority: str, type_: str) -> SlaRule | None:
    """The one rule matching (policies with overlapping rules are refused, so there is at most one)."""
    return next((rule for rule in rules if rule.matches(priority, type_)), None)


def overlapping_rules(
    rules: Sequence[SlaRule], all_priorities: Sequence[str], all_types: Sequence[str]
) -> list[tuple[int, int]]:
    """Index pairs of rules that both match some (priority, type)."""

    def cover(rule: SlaRule) -> set[tuple[str, str]]:
        priorities = rule.priorities or all_priorities
        types = rule.types or all_types
        return {(p, t) for p in priorities for t in types}

    covers = [cover(rule) for rule in rules]
    return [(i, j) for i in range(len(rules)) for j in range(i + 1, len(rules)) if covers[i] & covers[j]]
