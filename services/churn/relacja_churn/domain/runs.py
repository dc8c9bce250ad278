"""The model run's lifecycle: which client action each status allows.

    pending → running → succeeded | failed        (the run worker moves it)
    succeeded: activate (its scores become the customers' scores)

A client changes a run only by activating it; any other status refuses with
``IllegalTransition`` naming the status and the actions it allows (none).
"""

from __future__ import annotations

from typing import Literal

__all__ = ["IllegalTransition", "RunStatus", "allowed_actions", "check_action"]

RunStatus = Literal["pending", "running", "succeeded", "failed"]

_ACTIONS: dict[str, tuple[str, ...]] = {"pending": (), "running": (), "succeeded": ("activate",), "failed": ()}


class IllegalTransition(Exception):
    """An action the run's current status does not allow."""

    def __init__(self, current: str, action: str) -> None:
        self.current = current
        self.action = action
        self.allowed_actions = list(allowed_actions(current))
        allowed = ", ".join(self.allowed_actions) or "none"
        super().__init__(f"A {current} run cannot {action}; allowed actions: {allowed}.")


def allowed_actions(status: str) -> tuple[str, ...]:
    return _ACTIONS.get(status, ())


def check_action(status: str, action: str) -> None:
    """Raise ``IllegalTransition`` unless ``status`` allows ``action``."""
    if action not in allowed_actions(status):
        raise IllegalTransition(status, action)
