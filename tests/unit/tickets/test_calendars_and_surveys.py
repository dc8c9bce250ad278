"""Checking calendar definitions; survey tokens and answerability."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from relacja_tickets.domain.calendars import calendar_errors, format_minute, parse_minute, to_calendar
from relacja_tickets.domain.surveys import SCALES, answer_problem, new_token, token_hash

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_a_valid_calendar() -> None:
    hours = {"monday": [("09:00", "12:00"), ("13:00", "17:00")], "saturday": [("20:00", "24:00")]}
    assert calendar_errors("Europe/Warsaw", hours) == []
    calendar = to_calendar("Europe/Warsaw", hours, [date(2026, 12, 25)])
    assert calendar.hours[1] == [(540, 720), (780, 1020)] and calendar.hours[6] == [(1200, 1440)]
    assert date(2026, 12, 25) in calendar.holidays


def test_every_problem_is_named() -> None:
    errors = dict(
        calendar_errors(
            "Mars/Olympus",
            {
                "monday": [("09:00", "13:00"), ("12:00", "17:00")],
                "tuesday": [("17:00", "09:00")],
                "funday": [("09:00", "10:00")],
                "friday": [("24:00", "24:00"), ("9:00", "25:00")],
            },
        )
    )
    assert errors["time_zone"].startswith("unknown IANA time zone")
    assert errors["working_hours.monday"] == "intervals overlap"
    assert errors["working_hours.tuesday.0"] == "end must be after start"
    assert "not a weekday" in errors["working_hours.funday"]
    assert "working_hours.friday.0.start" in errors and "working_hours.friday.1.end" in errors


def test_a_calendar_without_working_time_is_refused() -> None:
    assert calendar_errors("UTC", {"monday": []}) == [
        ("working_hours", "at least one working interval is needed, or no deadline could ever be reached")
    ]


def test_clock_times() -> None:
    assert parse_minute("00:00") == 0 and parse_minute("24:00") == 1440 and parse_minute("24:01") is None
    assert parse_minute("7:00") is None and format_minute(1020) == "17:00"


def test_tokens_are_random_and_only_their_hash_is_kept() -> None:
    first, second = new_token(), new_token()
    assert first != second and len(first) >= 40
    assert token_hash(first) == token_hash(first) != token_hash(second) and first not in token_hash(first)


def test_answerability() -> None:
    assert answer_problem(answered_at=None, expires_at=NOW + timedelta(seconds=1), now=NOW) is None
    assert answer_problem(answered_at=None, expires_at=NOW, now=NOW) == "expired"
    assert answer_problem(answered_at=NOW, expires_at=NOW + timedelta(days=1), now=NOW) == "answered"
    assert (SCALES["csat"].low, SCALES["csat"].high, SCALES["nps"].low, SCALES["nps"].high) == (1, 5, 0, 10)
