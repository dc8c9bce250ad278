"""Record-level access: who may see and change which opportunities, leads and activities.

    role       sees and edits
    rep        records they own (owner / assignee is the caller)
    team_lead  records of their team, and their own
    manager    every record

A record the caller may not see does not exist for them: reads, edits and actions answer
404, and lists, boards, reports and the forecast aggregate only visible records
(docs/conventions.md, "Security"; OWASP API1). The caller's role comes from the token's
``roles`` claim (``sales_manager``, ``sales_team_lead``; anything else is a rep), its team
from the ``team`` claim; the gateway passes both with the caller's id. A team lead without
a team sees only their own records.

``Visibility`` is the rule as data, so the app layer turns it into one SQL condition and
``can_see`` answers for a single record with the same rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "Caller",
    "Role",
    "Visibility",
    "MANAGER_ROLE",
    "TEAM_LEAD_ROLE",
    "role_from_claims",
    "visibility",
    "can_see",
]

Role = Literal["rep", "team_lead", "manager"]

MANAGER_ROLE = "sales_manager"
TEAM_LEAD_ROLE = "sales_team_lead"


@dataclass(frozen=True)
class Caller:
    id: str
    role: Role
    team: str | None = None


def role_from_claims(roles: Iterable[str]) -> Role:
    """The strongest sales role among the token's roles (a manager who also leads a team is a manager)."""
    held = set(roles)
    if MANAGER_ROLE in held:
        return "manager"
    if TEAM_LEAD_ROLE in held:
        return "team_lead"
    return "rep"


@dataclass(frozen=True)
class Visibility:
    """Records visible to a caller: all, or those owned by ``owner_id`` or in ``team``."""

    everything: bool
    owner_id: str | None = None
    team: str | None = None


def visibility(caller: Caller) -> Visibility:
    if caller.role == "manager":
        return Visibility(everything=True)
    if caller.role == "team_lead" and caller.team:
        return Visibility(everything=False, owner_id=caller.id, team=caller.team)
    return Visibility(everything=False, owner_id=caller.id)


def can_see(caller: Caller, owner_id: str | None, team: str | None) -> bool:
    rule = visibility(caller)
    if rule.everything:
        return True
    if owner_id is not None and owner_id == rule.owner_id:
        return True
    return rule.team is not None and team == rule.team
