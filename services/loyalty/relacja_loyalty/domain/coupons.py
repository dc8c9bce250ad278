"""Coupon codes and the rules an offer must satisfy.

Codes are 12 characters from a 31-character alphabet without look-alikes (no 0/O, no
1/I/L: ``ALPHABET``), drawn from the operating system's CSPRNG (``secrets``), shown in
groups of four:
``K7QM-4XTA-93HP``. 31¹² ≈ 7.9 × 10¹⁷ codes: guessing one of a million issued takes ~10¹¹
tries on average, far beyond what the gateway's rate limits allow. A collision with an
existing code is caught by the unique index and the code drawn again.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

__all__ = ["ALPHABET", "CODE_LENGTH", "OfferProblem", "check_offer", "new_code", "normalise_code"]

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12


def new_code(choice: Callable[[str], str] = secrets.choice) -> str:
    raw = "".join(choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(code: str) -> str:
    """What a customer typed, as stored: upper case, dashes every four characters."""
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


class OfferProblem(ValueError):
    """An offer that breaks a rule; ``field`` names the body field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_offer(
    *,
    discount_kind: str,
    discount_value: Decimal,
    currency: str | None,
    applies_to: str,
    product_id: object | None,
    category: str | None,
    valid_from: datetime | None,
    valid_until: datetime | None,
    audience: str,
    segment_id: object | None,
    tier: str | None,
) -> None:
    """Raise OfferProblem for the first rule the offer breaks."""
    if discount_kind == "percentage" and not Decimal(0) < discount_value <= Decimal(100):
        raise OfferProblem("discount_value", "a percentage is more than 0 and at most 100")
    if discount_kind == "fixed_amount":
        if discount_value <= 0:
            raise OfferProblem("discount_value", "a fixed amount is more than 0")
        if currency is None:
            raise OfferProblem("currency", "a fixed amount needs its currency")
    if discount_kind == "free_product" and product_id is None:
        raise OfferProblem("product_id", "a free product names the product")
    if applies_to == "product" and product_id is None:
        raise OfferProblem("product_id", "an offer on a product names the product")
    if applies_to == "category" and not category:
        raise OfferProblem("category", "an offer on a category names the category")
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        raise OfferProblem("valid_until", "the validity ends after it starts")
    if audience == "segment" and segment_id is None:
        raise OfferProblem("segment_id", "a segment audience names the segment")
    if audience == "tier" and not tier:
        raise OfferProblem("tier", "a tier audience names the tier")
