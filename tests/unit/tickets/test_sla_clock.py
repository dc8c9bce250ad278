"""SLA clocks: pauses, meeting, reopening, re-targeting; policy rule matching and overlaps."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from relacja_tickets.domain import sla
from relacja_tickets.domain.business_time import Calendar
from relacja_tickets.domain.sla import SlaRule

WARSAW = ZoneInfo("Europe/Warsaw")
HOUR = 3600
CALENDAR = Calendar(WARSAW, {day: [(9 * 60, 17 * 60)] for day in range(1, 6)})


def at(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WARSAW)


def test_a_started_clock_is_due_after_its_target_in_business_time() -> None:
    clock = sla.start_clock(CALENDAR, "resolution", 10 * HOUR, at(2026, 11, 27, 15, 0))  # Friday
    assert clock.state == "running" and not clock.paused
    assert clock.due_at == at(2026, 11, 30, 17, 0)  # 2 h on Friday, 8 h on Monday: its closing time


def test_pause_stops_the_clock_and_resume_restarts_it_with_what_is_left() -> None:
    clock = sla.start_clock(CALENDAR, "resolution", 4 * HOUR, at(2026, 11, 23, 9, 0))  # Monday
    paused = sla.pause(CALENDAR, clock, at(2026, 11, 23, 11, 0))
    assert paused.paused and paused.state == "paused" and paused.due_at is None and paused.elapsed_seconds == 2 * HOUR
    # Two days waiting for the customer cost nothing.
    resumed = sla.resume(CALENDAR, paused, at(2026, 11, 25, 10, 0))
    assert resumed.state == "running" and resumed.due_at == at(2026, 11, 25, 12, 0)
    assert sla.elapsed_at(CALENDAR, resumed, at(2026, 11, 25, 11, 0)) == 3 * HOUR


def test_pause_over_a_weekend_and_outside_hours() -> None:
    clock = sla.start_clock(CALENDAR, "first_response", 3 * HOUR, at(2026, 11, 27, 16, 0))  # Friday 16:00
    paused = sla.pause(CALENDAR, clock, at(2026, 11, 28, 10, 0))  # Saturday: one business hour used
    assert paused.elapsed_seconds == HOUR
    resumed = sla.resume(CALENDAR, paused, at(2026, 11, 29, 20, 0))  # Sunday evening
    assert resumed.due_at == at(2026, 11, 30, 11, 0)


def test_pause_and_resume_are_idempotent() -> None:
    clock = sla.start_clock(CALENDAR, "resolution", HOUR, at(2026, 11, 23, 9, 0))
    paused = sla.pause(CALENDAR, clock, at(2026, 11, 23, 9, 30))
    assert sla.pause(CALENDAR, paused, at(2026, 11, 23, 10, 0)) == paused
    resumed = sla.resume(CALENDAR, paused, at(2026, 11, 23, 12, 0))
    assert sla.resume(CALENDAR, resumed, at(2026, 11, 23, 13, 0)) == resumed


def test_meet_records_the_business_time_used_and_stops() -> None:
    clock = sla.start_clock(CALENDAR, "first_response", HOUR, at(2026, 11, 23, 16, 30))
    met = sla.meet(CALENDAR, clock, at(2026, 11, 24, 9, 15))
    assert met.state == "met" and met.elapsed_seconds == 45 * 60 and not met.paused
    assert sla.resume(CALENDAR, met, at(2026, 11, 24, 10, 0)) == met


def test_a_breach_stays_a_breach_when_met_late() -> None:
    clock = sla.start_clock(CALENDAR, "first_response", HOUR, at(2026, 11, 23, 9, 0))
    breached = sla.SlaClock(**{**clock.__dict__, "breached_at": at(2026, 11, 23, 10, 0)})
    assert sla.meet(CALENDAR, breached, at(2026, 11, 23, 11, 0)).state == "breached"


def test_reopen_runs_the_resolution_clock_again_with_the_time_used() -> None:
    clock = sla.start_clock(CALENDAR, "resolution", 8 * HOUR, at(2026, 11, 23, 9, 0))
    met = sla.meet(CALENDAR, clock, at(2026, 11, 23, 15, 0))  # 6 h used
    again = sla.reopen(CALENDAR, met, at(2026, 11, 24, 9, 0))
    assert again.state == "running" and again.met_at is None and again.due_at == at(2026, 11, 24, 11, 0)


def test_overdue_remaining_budget_is_due_now() -> None:
    clock = sla.SlaClock("resolution", HOUR, elapsed_seconds=2 * HOUR)
    resumed = sla.resume(CALENDAR, clock, at(2026, 11, 23, 10, 0))
    assert resumed.due_at == at(2026, 11, 23, 10, 0)


def test_retarget_keeps_the_time_used() -> None:
    clock = sla.start_clock(CALENDAR, "resolution", 8 * HOUR, at(2026, 11, 23, 9, 0))
    urgent = sla.retarget(CALENDAR, clock, 2 * HOUR, at(2026, 11, 23, 10, 0))
    assert urgent.due_at == at(2026, 11, 23, 11, 0) and urgent.target_seconds == 2 * HOUR
    paused = sla.pause(CALENDAR, clock, at(2026, 11, 23, 10, 0))
    assert sla.retarget(CALENDAR, paused, 2 * HOUR, at(2026, 11, 23, 12, 0)).due_at is None
    met = sla.meet(CALENDAR, clock, at(2026, 11, 23, 10, 0))
    assert sla.retarget(CALENDAR, met, 2 * HOUR, at(2026, 11, 23, 12, 0)) == met


RULES = [
    SlaRule(("urgent",), (), 15, 240),
    SlaRule(("high", "normal"), ("complaint",), 60, 960),
    SlaRule(("high", "normal", "low"), ("question", "other"), 240, 2400),
]
PRIORITIES = ("low", "normal", "high", "urgent")
TYPES = ("question", "complaint", "return_request", "technical_problem", "other")


def test_rule_for_matches_priority_and_type() -> None:
    assert sla.rule_for(RULES, "urgent", "question") is RULES[0]
    assert sla.rule_for(RULES, "normal", "complaint") is RULES[1]
    assert sla.rule_for(RULES, "low", "other") is RULES[2]
    assert sla.rule_for(RULES, "low", "complaint") is None
    assert RULES[1].seconds_for("first_response") == 3600 and RULES[1].seconds_for("resolution") == 960 * 60


def test_overlapping_rules_are_found() -> None:
    assert sla.overlapping_rules(RULES, PRIORITIES, TYPES) == []
    catch_all = SlaRule((), (), 30, 60)
    assert sla.overlapping_rules([*RULES, catch_all], PRIORITIES, TYPES) == [(0, 3), (1, 3), (2, 3)]
    assert sla.overlapping_rules(
        [SlaRule(("low",), ("question",), 1, 2), SlaRule(("low", "high"), (), 1, 2)], PRIORITIES, TYPES
    ) == [(0, 1)]
