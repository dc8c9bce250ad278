"""The ticket state machine.

    new ──► open ◄──► pending_customer
     │        │            │
     └────────┴──► resolved ◄┘
                     │   │
          (reopen) ◄─┘   └──► closed   (final)

- ``new``: nobody has worked on it yet. ``open``: an agent works on it.
  ``pending_customer``: waiting for the customer; the SLA clocks pause.
- ``resolved`` → ``open`` is a *reopen*, allowed only within the reopen window after the
  resolution; afterwards the ticket can only be closed (the scheduler closes it when the
  window has passed).
- ``closed`` is final: no transitions, no comments.
- Staying in the same status is not a transition (409 as well: nothing would happen).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["ACTIVE_STATUSES", "TRANSITIONS", "Transition", "check_transition", "IllegalTransition"]

ACTIVE_STATUSES = ("new", "open", "pending_customer")

TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"open", "pending_customer", "resolved"}),
    "open": frozenset({"pending_customer", "resolved"}),
    "pending_customer": frozenset({"open", "resolved"}),
    "resolved": frozenset({"open", "closed"}),
    "closed": frozenset(),
}


class IllegalTransition(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


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


def check_transition(
    source: str, target: str, *, resolved_at: datetime | None, now: datetime, reopen_window: timedelta
) -> Transition:
    """The transition ``source`` → ``target``, or ``IllegalTransition`` saying why not."""
    if target not in TRANSITIONS.get(source, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(source, ()))) or "none (final)"
        raise IllegalTransition(
            "illegal-transition", f"A {source} ticket cannot become {target}; allowed from {source}: {allowed}."
        )
    transition = Transition(source, target)
    if transition.is_reopen and (resolved_at is None or now - resolved_at > reopen_window):
        raise IllegalTransition(
            "reopen-window-passed",
            f"The ticket was resolved more than {reopen_window} ago; it can no longer be reopened (open a new ticket).",
        )
    return transition
