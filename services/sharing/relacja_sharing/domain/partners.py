"""The partner's status: ``active`` ⇄ ``suspended`` (``suspend`` / ``resume``).

A suspended partner keeps its agreements and keys but every partner request is 403
(the gateway still authenticates it: the service says why it refuses).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from .states import IllegalTransition

__all__ = ["PARTNER_STATUSES", "PARTNER_TRANSITIONS", "PartnerAction", "PartnerStatus", "next_partner_status"]

PartnerStatus = Literal["active", "suspended"]
PartnerAction = Literal["suspend", "resume"]
PARTNER_STATUSES: tuple[PartnerStatus, ...] = ("active", "suspended")

PARTNER_TRANSITIONS: Mapping[str, Mapping[str, str]] = {
    "suspend": {"active": "suspended"},
    "resume": {"suspended": "active"},
}


def next_partner_status(current: str, action: str) -> str:
    moves = PARTNER_TRANSITIONS.get(action, {})
    if current not in moves:
        raise IllegalTransition(current, action, PARTNER_TRANSITIONS)
    return moves[current]
