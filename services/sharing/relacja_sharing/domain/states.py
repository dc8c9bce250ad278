"""The refusal every state machine of the service raises (docs/conventions.md: an illegal
move is 409 ``illegal-transition`` naming the current status and the allowed actions)."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["IllegalTransition", "allowed_actions"]


def allowed_actions(current: str, transitions: Mapping[str, Mapping[str, str]]) -> list[str]:
    return [action for action, moves in transitions.items() if current in moves]


class IllegalTransition(ValueError):
    def __init__(self, current: str, action: str, transitions: Mapping[str, Mapping[str, str]]) -> None:
        self.current, self.action = current, action
        self.allowed_actions = allowed_actions(current, transitions)
        allowed = ", ".join(self.allowed_actions) or "none"
        super().__init__(f"Cannot {action} in status {current} (allowed: {allowed}).")
