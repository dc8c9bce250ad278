"""Coupons at checkout: whether a coupon may be used on an order, and what it takes off.

    Coupon                        a coupon as the orders service knows it (projection of relacja.loyalty)
    CouponRejected(reason, ...)   why it may not be used (``reason``: a ``CouponReason``)
    check_usable(coupon, ...)     its state for this customer now: revoked, another customer's,
                                  not yet valid, expired, used up
    coupon_shares(coupon, ...)    the discount on these priced lines, split over the lines it
                                  applies to (one share per line, in minor units)

The rules (docs/orders.md, "Coupons"):

- One coupon per order. ``combinable`` says whether it may be used together with the
  other discount an order can have, a line's ``discount_percent``: a coupon that is not
  combinable refuses an order with any line discount (``not_combinable``).
- The base is each line after its own discount, tax excluded. A percentage takes that
  percent of the lines it applies to (the order: all; a product or a category: those
  lines); a fixed amount takes the amount once per order, at most those lines' value;
  a free product takes one unit of that product (its price after the line's discount),
  so the product must be in the order. No line it applies to: ``not_applicable``.
- The minimum order value is compared with the whole order before the coupon (the sum of
  the lines after their own discounts, tax excluded). A coupon with a currency (a fixed
  amount, or a minimum in that currency) applies only to orders in that currency; a
  minimum without a currency is read in the order's currency.
- Validity: ``valid_from`` inclusive, ``valid_until`` exclusive.

Why the discount is split over lines: tax is charged per line at the line's rate, and
returns refund a line's share, so the coupon must lower the lines' amounts, not only the
total. The split is by the lines' value, with the largest-remainder method on minor units
(the shares add up exactly to the discount and none exceeds its line).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Literal

from .money import ZERO, minor_units, round_money

__all__ = ["Coupon", "CouponReason", "CouponRejected", "check_usable", "coupon_shares", "split", "used_up_detail"]

HUNDRED = Decimal(100)

CouponReason = Literal[
    "unknown",
    "revoked",
    "other_customer",
    "not_yet_valid",
    "expired",
    "used_up",
    "not_applicable",
    "not_combinable",
    "below_minimum",
]


@dataclass(frozen=True)
class Coupon:
    """What the orders service knows of a coupon (``tables.coupons``)."""

    coupon_id: Any
    code: str
    discount_kind: Literal["percentage", "fixed_amount", "free_product"]
    discount_value: Decimal
    currency: str | None
    applies_to: Literal["order", "product", "category"]
    product_id: Any | None
    category: str | None
    minimum_order_value: Decimal | None
    valid_from: datetime | None
    valid_until: datetime | None
    max_uses: int
    uses: int
    customer_id: Any | None
    combinable: bool
    revoked: bool


class CouponRejected(ValueError):
    """The coupon may not be used on this order; ``reason`` says why (a ``CouponReason``)."""

    def __init__(self, reason: CouponReason, code: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.code = reason, code


def check_usable(coupon: Coupon, *, customer_id: Any, now: datetime) -> None:
    """Refuse a coupon that cannot be used by ``customer_id`` at ``now``, whatever the order.

    ``used_up`` here is what the projection knows; redemption re-checks it under the row's
    lock (``app.coupons.redeem``), which is what makes two racing orders safe."""
    code = coupon.code
    if coupon.revoked:
        raise CouponRejected("revoked", code, f"Coupon {code} was revoked.")
    if coupon.customer_id is not None and coupon.customer_id != customer_id:
        raise CouponRejected("other_customer", code, f"Coupon {code} belongs to another customer.")
    if coupon.valid_from is not None and now < coupon.valid_from:
        raise CouponRejected("not_yet_valid", code, f"Coupon {code} is valid from {coupon.valid_from.isoformat()}.")
    if coupon.valid_until is not None and now >= coupon.valid_until:
        raise CouponRejected("expired", code, f"Coupon {code} expired at {coupon.valid_until.isoformat()}.")
    if coupon.uses >= coupon.max_uses:
        raise CouponRejected("used_up", code, used_up_detail(coupon.code, coupon.max_uses))


def used_up_detail(code: str, max_uses: int) -> str:
    return f"Coupon {code} has been used {max_uses} time{'s' if max_uses > 1 else ''}, as many as it allows."


def _applies(coupon: Coupon, line: dict[str, Any]) -> bool:
    if coupon.discount_kind == "free_product" or coupon.applies_to == "product":
        return coupon.product_id is not None and str(line["product_id"]) == str(coupon.product_id)
    if coupon.applies_to == "category":
        return coupon.category is not None and line["category"] == coupon.category
    return True


def coupon_shares(coupon: Coupon, lines: Sequence[dict[str, Any]], *, currency: str) -> list[Decimal]:
    """The coupon's discount on ``lines`` (priced without it: ``domain.pricing.price_line``),
    one share per line (0 where it does not apply); refuses with ``CouponRejected``."""
    code = coupon.code
    if coupon.currency is not None and coupon.currency != currency:
        raise CouponRejected(
            "not_applicable", code, f"Coupon {code} is for orders in {coupon.currency}, not {currency}."
        )
    if not coupon.combinable and any(Decimal(line["discount_percent"]) > ZERO for line in lines):
        raise CouponRejected("not_combinable", code, f"Coupon {code} cannot be combined with the lines' own discounts.")
    order_value = sum((Decimal(line["line_amount"]) for line in lines), ZERO)
    if coupon.minimum_order_value is not None and order_value < coupon.minimum_order_value:
        minimum = round_money(coupon.minimum_order_value, currency)
        raise CouponRejected(
            "below_minimum",
            code,
            f"Coupon {code} needs an order of at least {minimum} {currency} (tax excluded); this one is {order_value}.",
        )
    applies = [_applies(coupon, line) and Decimal(line["line_amount"]) > ZERO for line in lines]
    if not any(applies):
        raise CouponRejected("not_applicable", code, f"Coupon {code} applies to no line of this order.")
    if coupon.discount_kind == "free_product":
        first = applies.index(True)
        line = lines[first]
        unit = round_money(Decimal(line["line_amount"]) / line["quantity"], currency)
        return [unit if i == first else ZERO for i in range(len(lines))]
    weights = [Decimal(line["line_amount"]) if use else ZERO for line, use in zip(lines, applies, strict=True)]
    base = sum(weights, ZERO)
    if coupon.discount_kind == "percentage":
        discount = round_money(base * coupon.discount_value / HUNDRED, currency)
    else:
        discount = min(round_money(coupon.discount_value, currency), base)
    return split(discount, weights, currency)


def split(amount: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """``amount`` (at most ``sum(weights)``) split in proportion to ``weights`` in minor units,
    largest remainders first (ties: the earlier line): exact in sum, no share above its weight."""
    total = sum(weights, ZERO)
    if amount <= ZERO or total <= ZERO:
        return [ZERO] * len(weights)
    unit = Decimal(1).scaleb(-minor_units(currency))
    exact = [amount * weight / total for weight in weights]
    shares = [(value / unit).to_integral_value(rounding=ROUND_FLOOR) * unit for value in exact]
    left = int((amount - sum(shares, ZERO)) / unit)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_remainder[:left]:
        shares[i] += unit
    return [round_money(share, currency) for share in shares]
