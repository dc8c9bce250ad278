"""Rules of a logged interaction: meetings and their schedule, defaults, no future contacts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from relacja_customers.domain.interactions import CLOCK_SKEW, check_interaction, resolve_times

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
START, END = NOW + timedelta(days=1), NOW + timedelta(days=1, hours=1)


def fields(channel: str, **kw: object) -> list[str]:
    args = {
        "occurred_at": None,
        "scheduled_start": None,
        "scheduled_end": None,
        "has_attendee_agents": False,
        "has_attendee_emails": False,
    }
    return [field for field, _ in check_interaction(channel, **(args | kw), now=NOW)]  # type: ignore[arg-type]  # keyword overrides of mixed types from one dict


def test_a_meeting_needs_a_schedule_that_ends_after_it_starts() -> None:
    assert (
        fields("meeting", scheduled_start=START, scheduled_end=END, has_attendee_agents=True, has_attendee_emails=True)
        == []
    )
    assert fields("meeting") == ["scheduled_start", "scheduled_end"]
    assert fields("meeting", scheduled_start=START, scheduled_end=START) == ["scheduled_end"]
    assert fields("meeting", scheduled_start=END, scheduled_end=START) == ["scheduled_end"]


@pytest.mark.parametrize("channel", ["phone", "email", "chat", "social", "visit", "note"])
def test_other_channels_have_no_schedule_nor_attendees(channel: str) -> None:
    assert fields(channel) == []
    assert fields(
        channel, scheduled_start=START, scheduled_end=END, has_attendee_agents=True, has_attendee_emails=True
    ) == [
        "scheduled_start",
        "scheduled_end",
        "attendee_agent_ids",
        "attendee_emails",
    ]


def test_only_a_meeting_may_lie_in_the_future() -> None:
    assert fields("phone", occurred_at=NOW + CLOCK_SKEW) == []
    assert fields("phone", occurred_at=NOW + CLOCK_SKEW + timedelta(seconds=1)) == ["occurred_at"]
    assert fields("meeting", occurred_at=START, scheduled_start=START, scheduled_end=END) == []


def test_defaults() -> None:
    meeting = resolve_times(
        "meeting", occurred_at=None, duration_seconds=None, scheduled_start=START, scheduled_end=END, now=NOW
    )
    assert (meeting.occurred_at, meeting.duration_seconds) == (START, 3600)
    given = resolve_times(
        "meeting", occurred_at=NOW, duration_seconds=1800, scheduled_start=START, scheduled_end=END, now=NOW
    )
    assert (given.occurred_at, given.duration_seconds) == (NOW, 1800)
    call = resolve_times(
        "phone", occurred_at=None, duration_seconds=None, scheduled_start=None, scheduled_end=None, now=NOW
    )
    assert (call.occurred_at, call.duration_seconds) == (NOW, None)
