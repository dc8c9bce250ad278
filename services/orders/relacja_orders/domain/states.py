"""The order status machine.

    placed ──pay──▶ paid ──fulfill──▶ fulfilled ──deliver──▶ delivered
       │              │
       └──cancel──────┴──▶ cancelled    (a cancellation after payment refunds the total)

Every transition is an explicit call; anything else is refused with the current status.
Returns are not a status: they apply to a delivered order, which stays delivered.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["Action", "STATUSES", "TRANSITIONS", "IllegalTransition", "next_status"]

Action = Literal["pay", "fulfill", "deliver", "cancel"]
STATUSES = ("placed", "paid", "fulfilled", "delivered", "cancelled")

TRANSITIONS: dict[Action, dict[str, str]] = {
    "pay": {"placed": "paid"},
    "fulfill": {"paid": "fulfilled"},
    "deliver": {"fulfilled": "delivered"},
    "cancel": {"placed": "cancelled", "paid": "cancelled"},
}


class IllegalTransition(ValueError):
    def __init__(self, action: Action, current: str) -> None:
        allowed = sorted(TRANSITIONS[action])
        super().__init__(f"Cannot {action} an order that is {current}; {action} is allowed from: {', '.join(allowed)}.")
        self.action = action
        self.current = current


def next_status(action: Action, current: str) -> str:
    """The status after ``action`` on an order in ``current``; raises ``IllegalTransition``."""
    target = TRANSITIONS[action].get(current)
    if target is None:
        raise IllegalTransition(action, current)
    return target
