"""The use cases' refusals as RFC 9457 problems, in one place for every route module.

with app_errors():        NotFound            → 404 not-found
    ...call app...        IllegalTransition   → 409 illegal-transition (current_status, allowed_actions)
                          InvalidField        → 422 (the field named in errors)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from relacja_servicekit import Problem

from ..app.errors import IllegalTransition, InvalidField, NotFound

__all__ = ["ILLEGAL_TRANSITION", "app_errors"]

ILLEGAL_TRANSITION = (
    "Not allowed in the current status (illegal-transition: `current_status` and `allowed_actions` name them)"
)


def _problem(err: Exception) -> Problem:
    if isinstance(err, NotFound):
        return Problem(404, f"{err.what} not found", str(err), type_="not-found")
    if isinstance(err, IllegalTransition):
        return Problem(
            409,
            "Illegal transition",
            str(err),
            type_="illegal-transition",
            extra={"current_status": err.current, "action": err.action, "allowed_actions": err.allowed_actions},
        )
    assert isinstance(err, InvalidField)
    return Problem(
        422,
        "Validation failed",
        str(err),
        type_=err.type_,
        errors=[{"field": f"body.{err.field}", "message": str(err)}],
    )


@contextmanager
def app_errors() -> Iterator[None]:
    try:
        yield
    except (NotFound, IllegalTransition, InvalidField) as err:
        raise _problem(err) from None
