"""Checks of a deal's fields and state that the request schema cannot express.

    actions per status       open → move, win, lose; won and lost are final
    amount                   ≥ 0 (the schema's pattern allows only non-negative decimals;
                             this is the second line for values built in code)
    expected close date      not before the day the deal was created
    loss reason              required to lose, from the managed list; never on a win
    line items               quantity ≥ 1, discount ≤ quantity × unit price

Each failure names the field it is about, so the API answers with an RFC 9457 problem whose
``errors`` point at it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

__all__ = [
    "ACTIONS",
    "FieldError",
    "LineItem",
    "allowed_actions",
    "check_close_date",
    "check_amount",
    "check_line_items",
    "line_items_total",
]

ACTIONS: dict[str, tuple[str, ...]] = {"open": ("move", "win", "lose"), "won": (), "lost": ()}


def allowed_actions(status: str) -> list[str]:
    return list(ACTIONS.get(status, ()))


class FieldError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class LineItem:
    quantity: int
    unit_price: Decimal
    discount_amount: Decimal


def check_amount(amount: Decimal, *, field: str = "body.amount") -> None:
    if amount < 0:
        raise FieldError(field, "must not be negative")


def check_close_date(expected: date | None, created_on: date, *, field: str = "body.expected_close_date") -> None:
    if expected is not None and expected < created_on:
        raise FieldError(field, f"must not be before the deal was created ({created_on.isoformat()})")


def check_line_items(items: Sequence[LineItem], *, field: str = "body.line_items") -> None:
    for index, item in enumerate(items):
        if item.quantity < 1:
            raise FieldError(f"{field}[{index}].quantity", "must be at least 1")
        if item.unit_price < 0:
            raise FieldError(f"{field}[{index}].unit_price", "must not be negative")
        if not 0 <= item.discount_amount <= item.unit_price * item.quantity:
            raise FieldError(f"{field}[{index}].discount_amount", "must be between 0 and quantity × unit_price")


def line_items_total(items: Sequence[LineItem]) -> Decimal:
    return sum((item.unit_price * item.quantity - item.discount_amount for item in items), Decimal("0"))
