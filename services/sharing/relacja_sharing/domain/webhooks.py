"""A webhook endpoint's states: enabled ⇄ disabled (staff or the partner, or the sender itself
on a 410 or after the disabling window). Enabling again restarts the failing clock."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from .states import IllegalTransition

__all__ = ["ENDPOINT_TRANSITIONS", "EndpointAction", "EndpointStatus", "DisabledReason", "next_endpoint_status"]

EndpointStatus = Literal["enabled", "disabled"]
EndpointAction = Literal["enable", "disable"]
DisabledReason = Literal["gone", "failing", "manual"]

ENDPOINT_TRANSITIONS: Mapping[str, Mapping[str, str]] = {
    "enable": {"disabled": "enabled"},
    "disable": {"enabled": "disabled"},
}


def next_endpoint_status(current: str, action: str) -> str:
    moves = ENDPOINT_TRANSITIONS.get(action, {})
    if current not in moves:
        raise IllegalTransition(current, action, ENDPOINT_TRANSITIONS)
    return moves[current]
