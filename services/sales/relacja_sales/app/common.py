"""What every use case shares: the access rule as a SQL condition, and the problems.

``visible(caller, owner, team)`` is ``domain.access.visibility`` turned into one WHERE
condition, so a list, a board, a report and the forecast filter with the same rule that
``can_see`` applies to a single record.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, or_, true

from relacja_servicekit import Problem

from ..domain.access import Caller, visibility
from ..domain.deals import FieldError

__all__ = ["visible", "not_found", "field_problem", "invalid", "illegal_transition"]


def visible(caller: Caller, owner: ColumnElement[Any], team: ColumnElement[Any]) -> ColumnElement[bool]:
    rule = visibility(caller)
    if rule.everything:
        return true()
    if rule.team is not None:
        return or_(owner == rule.owner_id, team == rule.team)
    return owner == rule.owner_id


def not_found(what: str, key: uuid.UUID | str) -> Problem:
    # The same answer for "does not exist" and "you may not see it" (OWASP API1).
    return Problem(404, f"{what.capitalize()} not found", f"No {what} with id {key}.", type_="not-found")


def field_problem(error: FieldError, *, type_: str = "validation-error", status: int = 422) -> Problem:
    return Problem(
        status,
        "Validation failed",
        f"{error.field}: {error.message}",
        type_=type_,
        errors=[{"field": error.field, "message": error.message}],
    )


def invalid(field: str, message: str, *, type_: str = "validation-error", status: int = 422) -> Problem:
    return field_problem(FieldError(field, message), type_=type_, status=status)


def illegal_transition(what: str, current_status: str, action: str, allowed: list[str]) -> Problem:
    return Problem(
        409,
        "Illegal transition",
        f"The {what} is {current_status}; {action} is not allowed (allowed: {', '.join(allowed) or 'none'}).",
        type_="illegal-transition",
        extra={"current_status": current_status, "action": action, "allowed_actions": allowed},
    )
