"""Pricing an order from the catalog, and the amounts of an order at any point of its life.

A line is priced when the order is placed and never again (a later price change in the
catalog does not touch it):

    gross line      quantity × unit_price
    discount_amount round(gross line × discount_percent / 100) + the coupon's share
    line_amount     gross line − discount_amount            (tax excluded)
    tax_amount      round(line_amount × tax_rate)           (the product's rate at order time)

The order's amounts (definitions in ``relacja_contracts.events.orders``) are sums over the
lines, recomputed by :func:`order_amounts` after every change (cancellation, return), so
they can never drift from the lines. A coupon's discount is split over the lines it applies
to (``domain.coupons.coupon_shares``) and priced into them like the line's own discount, so
tax and later returns see the discounted amounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .money import ZERO, round_money

__all__ = ["CatalogItem", "LineRequest", "price_line", "order_amounts", "OrderAmounts"]

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class CatalogItem:
    """What the catalog says about a product when the order is placed."""

    product_id: Any
    sku: str
    category: str | None
    unit_price: Decimal
    unit_cost: Decimal | None
    tax_rate: Decimal
    currency: str


@dataclass(frozen=True)
class LineRequest:
    quantity: int
    discount_percent: Decimal = ZERO


def price_line(
    line_no: int, item: CatalogItem, request: LineRequest, coupon_discount: Decimal = ZERO
) -> dict[str, Any]:
    """One priced order line (the stored form; amounts as ``Decimal``); ``coupon_discount``:
    the coupon's share of this line, on top of the line's own discount."""
    currency = item.currency
    gross = item.unit_price * request.quantity
    discount = round_money(gross * request.discount_percent / HUNDRED, currency) + coupon_discount
    line_amount = round_money(gross - discount, currency)
    return {
        "line_no": line_no,
        "product_id": item.product_id,
        "sku": item.sku,
        "category": item.category,
        "quantity": request.quantity,
        "unit_price": round_money(item.unit_price, currency),
        "unit_cost": None if item.unit_cost is None else round_money(item.unit_cost, currency),
        "discount_percent": request.discount_percent,
        "discount_amount": discount,
        "coupon_discount_amount": round_money(coupon_discount, currency),
        "line_amount": line_amount,
        "tax_rate": item.tax_rate.normalize(),
        "tax_amount": round_money(line_amount * item.tax_rate, currency),
        "returned_quantity": 0,
    }


@dataclass(frozen=True)
class OrderAmounts:
    gross_amount: Decimal
    tax_amount: Decimal
    total_amount: Decimal
    returned_amount: Decimal
    refunded_amount: Decimal
    net_amount: Decimal
    cost_amount: Decimal | None
    margin: Decimal | None

    def as_dict(self) -> dict[str, Decimal | None]:
        return dict(self.__dict__)


def order_amounts(
    lines: Sequence[dict[str, Any]],
    *,
    currency: str,
    cancelled: bool,
    returned_amount: Decimal = ZERO,
    refunded_amount: Decimal = ZERO,
) -> OrderAmounts:
    """The amounts of an order with these lines; ``returned_amount`` and ``refunded_amount``
    are the running totals kept by returns and cancellations (see ``domain.returns``)."""
    gross = sum((Decimal(line["line_amount"]) for line in lines), ZERO)
    tax = sum((Decimal(line["tax_amount"]) for line in lines), ZERO)
    net = ZERO if cancelled else gross - returned_amount
    cost: Decimal | None
    if not lines or any(line.get("unit_cost") is None for line in lines):
        cost = None
    elif cancelled:
        cost = ZERO
    else:
        cost = sum(
            (Decimal(line["unit_cost"]) * (line["quantity"] - line.get("returned_quantity", 0)) for line in lines), ZERO
        )
        cost = round_money(cost, currency)
    return OrderAmounts(
        gross_amount=round_money(gross, currency),
        tax_amount=round_money(tax, currency),
        total_amount=round_money(gross + tax, currency),
        returned_amount=round_money(returned_amount, currency),
        refunded_amount=round_money(refunded_amount, currency),
        net_amount=round_money(net, currency),
        cost_amount=cost,
        margin=None if cost is None else round_money(net - cost, currency),
    )
