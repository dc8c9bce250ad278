"""Rules of the contact history: what a logged interaction must look like.

- Every channel (phone, email, chat, meeting, social, visit, note) has a direction
  (inbound, outbound, internal), an optional agent, subject, body and duration.
- A **meeting** has a scheduled start and end (end after start) and may have attendees:
  agent ids and contact e-mails. Other channels have neither: a call is logged when it
  happened, not scheduled.
- ``occurred_at`` defaults to the scheduled start of a meeting and to *now* for the other
  channels. Only a meeting may lie in the future (it is planned); anything else that
  "occurred" later than now (beyond a clock skew) is a mistake.
- A meeting's duration defaults to its scheduled length.

Pure functions; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["CLOCK_SKEW", "Schedule", "check_interaction", "resolve_times"]

CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Schedule:
    occurred_at: datetime
    duration_seconds: int | None


def check_interaction(
    channel: str,
    *,
    occurred_at: datetime | None,
    scheduled_start: datetime | None,
    scheduled_end: datetime | None,
    has_attendee_agents: bool,
    has_attendee_emails: bool,
    now: datetime,
) -> list[tuple[str, str]]:
    """The problems of an interaction as ``(field, message)`` pairs; empty when valid."""
    errors: list[tuple[str, str]] = []
    if channel == "meeting":
        if scheduled_start is None:
            errors.append(("scheduled_start", "required for a meeting"))
        if scheduled_end is None:
            errors.append(("scheduled_end", "required for a meeting"))
        if scheduled_start is not None and scheduled_end is not None and scheduled_end <= scheduled_start:
            errors.append(("scheduled_end", "must be after scheduled_start"))
    else:
        for name, present in (
            ("scheduled_start", scheduled_start is not None),
            ("scheduled_end", scheduled_end is not None),
            ("attendee_agent_ids", has_attendee_agents),
            ("attendee_emails", has_attendee_emails),
        ):
            if present:
                errors.append((name, "only a meeting has a schedule and attendees"))
        if occurred_at is not None and occurred_at > now + CLOCK_SKEW:
            errors.append(("occurred_at", "cannot be in the future (only a meeting can be planned)"))
    return errors


def resolve_times(
    channel: str,
    *,
    occurred_at: datetime | None,
    duration_seconds: int | None,
    scheduled_start: datetime | None,
    scheduled_end: datetime | None,
    now: datetime,
) -> Schedule:
    """``occurred_at`` and ``duration_seconds`` with their defaults applied (for a valid interaction)."""
    if channel == "meeting" and scheduled_start is not None and scheduled_end is not None:
        return Schedule(
            occurred_at=occurred_at or scheduled_start,
            duration_seconds=duration_seconds
            if duration_seconds is not None
            else int((scheduled_end - scheduled_start).total_seconds()),
        )
    return Schedule(occurred_at=occurred_at or now, duration_seconds=duration_seconds)
