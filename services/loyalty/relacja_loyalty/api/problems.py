"""The use cases' refusals as RFC 9457 problems, in one place for every route module.

    with app_errors():        NotFound            → 404 not-found
        ...call app...        IllegalTransition   → 409 illegal-transition (current_status, allowed_actions)
                              AlreadyEnrolled     → 409 already-enrolled (existing_id)
                              InsufficientPoints  → 409 insufficient-points (requested, available)
                              RewardNotAvailable  → 409 reward-not-available
                              InvalidReference    → 422 (the field named in errors)
                              OfferProblem        → 422 validation-error (the field named in errors)

Problems the app raises itself (the customer check) pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from relacja_servicekit import Problem

from ..app.errors import AlreadyEnrolled, IllegalTransition, InvalidReference, NotFound, RewardNotAvailable
from ..domain.coupons import OfferProblem
from ..domain.ledger import InsufficientPoints

__all__ = ["ILLEGAL_TRANSITION", "INSUFFICIENT_POINTS", "app_errors"]

ILLEGAL_TRANSITION = (
    "Not allowed in the current status (illegal-transition: `current_status` and `allowed_actions` name them)"
)
INSUFFICIENT_POINTS = "More points than are available (insufficient-points: `requested`, `available`)"

_REFUSALS = (
    NotFound,
    IllegalTransition,
    AlreadyEnrolled,
    InsufficientPoints,
    RewardNotAvailable,
    InvalidReference,
    OfferProblem,
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
    if isinstance(err, AlreadyEnrolled):
        return Problem(
            409, "Already enrolled", str(err), type_="already-enrolled", extra={"existing_id": str(err.member_id)}
        )
    if isinstance(err, InsufficientPoints):
        return Problem(
            409,
            "Insufficient points",
            str(err),
            type_="insufficient-points",
            extra={"requested": err.requested, "available": err.available},
        )
    if isinstance(err, RewardNotAvailable):
        return Problem(409, "Reward not available", str(err), type_="reward-not-available")
    if isinstance(err, InvalidReference):
        return Problem(
            422,
            "Validation failed",
            str(err),
            type_=err.type_,
            errors=[{"field": f"body.{err.field}", "message": str(err)}],
        )
    if isinstance(err, OfferProblem):
        return Problem(
            422,
            "Validation failed",
            str(err),
            type_="validation-error",
            errors=[{"field": f"body.{err.field}", "message": str(err)}],
        )
    raise TypeError(f"no problem for {type(err).__name__}")


@contextmanager
def app_errors() -> Iterator[None]:
    """Turn the use cases' refusals raised inside the block into their problems."""
    try:
        yield
    except _REFUSALS as err:
        raise _problem(err) from None
