"""The use cases' refusals as RFC 9457 problems, in one place for every route module.

with app_errors():                 NotFound            → 404 not-found
    ...call app...                 IllegalTransition   → 409 illegal-transition (current_status, action,
                                                             allowed_actions)
                                   InvalidAgreement    → 422 validation-error (errors per field)
                                   PartnerUnavailable  → 403 partner-suspended / agreement-suspended /
                                                             agreement-not-active (status)
                                   FeedGone            → 410 agreement-terminated
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from relacja_servicekit import Problem

from ..app.errors import FeedGone, InvalidAgreement, NotFound, PartnerUnavailable
from ..domain.states import IllegalTransition

__all__ = ["ILLEGAL_TRANSITION", "app_errors"]

#: The description of a route's 409 for an action.
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
    if isinstance(err, InvalidAgreement):
        return Problem(422, "Validation failed", str(err), type_="validation-error", errors=err.errors)
    if isinstance(err, PartnerUnavailable):
        kind = f"{err.what}-{err.status}" if err.status == "suspended" else f"{err.what}-not-active"
        return Problem(403, f"The {err.what} is {err.status}", str(err), type_=kind, extra={"status": err.status})
    if isinstance(err, FeedGone):
        return Problem(410, "Agreement terminated", str(err), type_="agreement-terminated")
    raise TypeError(f"no problem for {type(err).__name__}")


@contextmanager
def app_errors() -> Iterator[None]:
    """Turn the use cases' refusals raised inside the block into their problems."""
    try:
        yield
    except (NotFound, IllegalTransition, InvalidAgreement, PartnerUnavailable, FeedGone) as err:
        raise _problem(err) from None
