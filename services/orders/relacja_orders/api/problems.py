"""The use cases' refusals as RFC 9457 problems, in one place for every route module.

    with app_errors():                 NotFound            → 404 not-found
        ...call app...                 IllegalTransition   → 409 illegal-transition (current_status, action,
                                                                 allowed_actions)
                                       InvalidLines        → 422 invalid-lines (errors per line)
                                       ReturnError         → 422 return-exceeds-purchase (errors per line)
                                       DuplicateSku        → 409 duplicate-sku (existing_id)
                                       PriceScaleError     → 422 validation-error (the price field)
                                       CouponRejected      → 422 coupon-rejected (reason, coupon_code; the
                                                                 body.coupon_code field)

Problems the app raises itself (the customer check of ``relacja_servicekit.customer_directory``)
pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from relacja_servicekit import Problem

from ..app.errors import DuplicateSku, InvalidLines, NotFound, PriceScaleError
from ..domain.coupons import CouponRejected
from ..domain.returns import ReturnError
from ..domain.states import IllegalTransition

__all__ = ["app_errors", "ILLEGAL_TRANSITION"]

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
    if isinstance(err, InvalidLines):
        return Problem(422, "Invalid order lines", str(err), type_="invalid-lines", errors=err.errors)
    if isinstance(err, ReturnError):
        return Problem(
            422,
            "Return exceeds purchase",
            "A customer cannot return more than was bought.",
            type_="return-exceeds-purchase",
            errors=err.errors,
        )
    if isinstance(err, DuplicateSku):
        return Problem(
            409, "Duplicate SKU", str(err), type_="duplicate-sku", extra={"existing_id": str(err.existing_id)}
        )
    if isinstance(err, PriceScaleError):
        return Problem(
            422,
            "Validation failed",
            str(err),
            type_="validation-error",
            errors=[{"field": f"body.{err.field}", "message": f"too many decimal places for {err.currency}"}],
        )
    if isinstance(err, CouponRejected):
        return Problem(
            422,
            "Coupon not accepted",
            str(err),
            type_="coupon-rejected",
            errors=[{"field": "body.coupon_code", "message": f"{err.reason}: {err}"}],
            extra={"reason": err.reason, "coupon_code": err.code},
        )
    raise TypeError(f"no problem for {type(err).__name__}")


@contextmanager
def app_errors() -> Iterator[None]:
    """Turn the use cases' refusals raised inside the block into their problems."""
    try:
        yield
    except (
        NotFound,
        IllegalTransition,
        InvalidLines,
        ReturnError,
        DuplicateSku,
        PriceScaleError,
        CouponRejected,
    ) as err:
        raise _problem(err) from None
