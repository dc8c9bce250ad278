"""The order status machine, and the decision on a return request.

    placed ──pay──▶ paid ──fulfill──▶ fulfilled ──deliver──▶ delivered
       │              │
       └──cancel──────┴──▶ cancelled    (a cancellation after payment refunds the total)

    a delivered order takes return requests (``return``; it stays delivered)

    return request:  requested ──accept──▶ accepted
                         └──────reject──▶ rejected

Every transition is an explicit action; anything else raises :class:`IllegalTransition`
naming the current status and the actions allowed from it (docs/conventions.md: an
illegal move is 409 ``illegal-transition`` naming both).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

__all__ = [
    "Action",
    "ReturnDecision",
    "STATUSES",
    "TRANSITIONS",
    "RETURNABLE",
    "RETURN_TRANSITIONS",
    "IllegalTransition",
    "allowed_actions",
    "next_status",
    "check_returnable",
    "decided_status",
]

Action = Literal["pay", "fulfill", "deliver", "cancel"]
ReturnDecision = Literal["accept", "reject"]
STATUSES = ("placed", "paid", "fulfilled", "delivered", "cancelled")

TRANSITIONS: Mapping[str, Mapping[str, str]] = {
    "pay": {"placed": "paid"},
    "fulfill": {"paid": "fulfilled"},
    "deliver": {"fulfilled": "delivered"},
    "cancel": {"placed": "cancelled", "paid": "cancelled"},
}

# Statuses in which an order takes a return request (an action that does not change the status).
RETURNABLE = ("delivered",)

RETURN_TRANSITIONS: Mapping[str, Mapping[str, str]] = {
    "accept": {"requested": "accepted"},
    "reject": {"requested": "rejected"},
}


def allowed_actions(current: str, *, returns: bool = False) -> list[str]:
    """The actions allowed on an order in ``current`` (``returns``: on a return request)."""
    if returns:
        return [action for action, moves in RETURN_TRANSITIONS.items() if current in moves]
    return [action for action, moves in TRANSITIONS.items() if current in moves] + (
        ["return"] if current in RETURNABLE else []
    )


class IllegalTransition(ValueError):
    """``action`` is not allowed on a ``what`` (order, return request) in ``current``."""

    def __init__(
        self, action: str, current: str, *, what: str = "order", allowed_from: tuple[str, ...] | list[str] = ()
    ) -> None:
        self.action, self.current, self.what = action, current, what
        self.allowed_actions = allowed_actions(current, returns=what != "order")
        now = ", ".join(self.allowed_actions) or "none"
        super().__init__(
            f"Cannot {action} {'an' if what[0] in 'aeiou' else 'a'} {what} that is {current}; "
            f"{action} is allowed from: {', '.join(allowed_from)}. Allowed now: {now}."
        )


def next_status(action: Action, current: str) -> str:
    """The status after ``action`` on an order in ``current``; raises ``IllegalTransition``."""
    target = TRANSITIONS[action].get(current)
    if target is None:
        raise IllegalTransition(action, current, allowed_from=sorted(TRANSITIONS[action]))
    return target


def check_returnable(current: str) -> None:
    """Raise ``IllegalTransition`` unless an order in ``current`` takes return requests."""
    if current not in RETURNABLE:
        raise IllegalTransition("return", current, allowed_from=RETURNABLE)


def decided_status(decision: ReturnDecision, current: str) -> str:
    """The status of a return request after ``decision``; raises ``IllegalTransition``."""
    target = RETURN_TRANSITIONS[decision].get(current)
    if target is None:
        raise IllegalTransition(
            decision, current, what="return request", allowed_from=sorted(RETURN_TRANSITIONS[decision])
        )
    return target
