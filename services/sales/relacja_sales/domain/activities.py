"""Activities (calls, meetings, to-dos) and their reminders.

    an activity is linked to an opportunity or a customer (at least one); linked to an
    opportunity, its customer is the deal's
    remind_at ≤ due_at where the deal's pipeline forbids late reminders (the default);
    without a deal, or in a pipeline that allows them, a reminder may come after the due time
    overdue: open, due_at < now
    a reminder is due when remind_at ≤ now and it was not emitted yet; the reminder worker
    emits ActivityDueV1 once per reminder (workers.py); changing remind_at re-arms it

Statuses: ``open`` → ``done`` (``complete``) or ``cancelled`` (``cancel``), both final. A
completed call or meeting is logged in the customer's timeline (ActivityLoggedV1).
"""

from __future__ import annotations

from datetime import datetime

from .deals import FieldError

__all__ = ["ACTIONS", "allowed_actions", "check_reminder", "is_logged_kind"]

ACTIONS: dict[str, dict[str, str]] = {"complete": {"open": "done"}, "cancel": {"open": "cancelled"}}


def allowed_actions(status: str) -> list[str]:
    return [action for action, moves in ACTIONS.items() if status in moves]


def check_reminder(
    remind_at: datetime | None, due_at: datetime | None, *, late_reminders_allowed: bool, field: str = "body.remind_at"
) -> None:
    if remind_at is None:
        return
    if due_at is None:
        raise FieldError(field, "a reminder needs a due time (due_at)")
    if remind_at > due_at and not late_reminders_allowed:
        raise FieldError(field, "must not be after due_at: the deal's pipeline forbids late reminders")


def is_logged_kind(kind: str) -> bool:
    """Calls and meetings are contacts with the customer; to-dos are internal."""
    return kind in ("call", "meeting")
