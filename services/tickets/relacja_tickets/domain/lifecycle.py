"""The ticket state machine, moved by named actions.

    new ──start──► open ◄──resume── pending_customer ◄──wait── new | open
     │               │                     │
     └───────────────┴──────resolve────────┴──► resolved ──close──► closed   (final)
                                                   │
                     open ◄────────reopen──────────┘   (within the reopen window)

    action    from                          to
    start     new                           open              an agent takes it into work
    wait      new, open                     pending_customer  waiting for the customer; SLA clocks pause
    resume    pending_customer              open              the customer answered; clocks run again
    resolve   new, open, pending_customer   resolved          a CSAT survey is issued
    close     resolved                      closed            final: no actions, no changes, no comments
    reopen    resolved                      open              only within the reopen window after resolving

- Each action is ``POST /api/v1/tickets/{id}/<action>``; ``TRANSITIONS`` is the same
  machine seen by status (source → reachable targets).
- An action not allowed from the current status is ``IllegalTransition`` naming the
  status and the actions allowed from it; a reopen after the window is
  ``IllegalTransition`` with reason ``reopen-window-passed`` (the watcher then closes
  the ticket, so "resolved" means "still reopenable").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

__all__ = [
    "ACTIVE_STATUSES",
    "Action",
    "ACTIONS",
    "TRANSITIONS",
    "Transition",
    "IllegalTransition",
    "allowed_actions",
    "check_action",
    "check_transition",
]

ACTIVE_STATUSES = ("new", "open", "pending_customer")

Action = Literal["start", "wait", "resume", "resolve", "close", "reopen"]

ACTIONS: dict[Action, dict[str, str]] = {
    "start": {"new": "open"},
    "wait": {"new": "pending_customer", "open": "pending_customer"},
    "resume": {"pending_customer": "open"},
    "resolve": {"new": "resolved", "open": "resolved", "pending_customer": "resolved"},
    "close": {"resolved": "closed"},
    "reopen": {"resolved": "open"},
}
assert set(ACTIONS) == set(get_args(Action))

_STATUSES = ("new", "open", "pending_customer", "resolved", "closed")

TRANSITIONS: dict[str, frozenset[str]] = {
    status: frozenset(moves[status] for moves in ACTIONS.values() if status in moves) for status in _STATUSES
}


def allowed_actions(status: str) -> list[Action]:
    """The actions a ticket in ``status`` can take, in the order of ``ACTIONS``."""
    return [action for action, moves in ACTIONS.items() if status in moves]


class IllegalTransition(Exception):
    """A move the state machine refuses; ``reason`` is the problem type."""

    def __init__(self, reason: str, detail: str, *, current_status: str, action: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.current_status = current_status
        self.action = action
        self.allowed_actions = allowed_actions(current_status)


@dataclass(frozen=True)
class Transition:
    source: str
    target: str

    @property
    def is_reopen(self) -> bool:
        return self.source == "resolved" and self.target == "open"

    @property
    def pauses(self) -> bool:
        return self.target == "pending_customer"

    @property
    def resumes(self) -> bool:
        return self.source == "pending_customer" and self.target == "open"


def _allowed_text(status: str) -> str:
    return ", ".join(allowed_actions(status)) or "none (closed is final)"


def _check_reopen(
    transition: Transition, resolved_at: datetime | None, now: datetime, reopen_window: timedelta
) -> None:
    if transition.is_reopen and (resolved_at is None or now - resolved_at > reopen_window):
        raise IllegalTransition(
            "reopen-window-passed",
            f"The ticket was resolved more than {reopen_window} ago; it can no longer be reopened (open a new ticket).",
            current_status=transition.source,
            action="reopen",
        )


def check_action(
    action: Action, source: str, *, resolved_at: datetime | None, now: datetime, reopen_window: timedelta
) -> Transition:
    """The transition ``action`` makes from ``source``, or ``IllegalTransition`` saying why not."""
    target = ACTIONS[action].get(source)
    if target is None:
        raise IllegalTransition(
            "illegal-transition",
            f"A {source} ticket cannot {action}; allowed from {source}: {_allowed_text(source)}.",
            current_status=source,
            action=action,
        )
    transition = Transition(source, target)
    _check_reopen(transition, resolved_at, now, reopen_window)
    return transition


def check_transition(
    source: str, target: str, *, resolved_at: datetime | None, now: datetime, reopen_window: timedelta
) -> Transition:
    """The transition ``source`` → ``target`` (an implicit move, e.g. by a comment), or
    ``IllegalTransition`` saying why not."""
    if target not in TRANSITIONS.get(source, frozenset()):
        raise IllegalTransition(
            "illegal-transition",
            f"A {source} ticket cannot become {target}; allowed from {source}: {_allowed_text(source)}.",
            current_status=source,
        )
    transition = Transition(source, target)
    _check_reopen(transition, resolved_at, now, reopen_window)
    return transition
