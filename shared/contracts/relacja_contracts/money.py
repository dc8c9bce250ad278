"""Money on the wire: a decimal string (``"129.90"``) beside an ISO 4217 currency code.

Floats cannot hold 0.10 exactly, so amounts are ``Decimal`` in Python and strings in
JSON — in events and in HTTP bodies alike. ``Amount`` is the one type for both: it
validates a string or a number, keeps full precision, and always serialises as a string.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer, WithJsonSchema

__all__ = ["Amount", "CurrencyCode", "AMOUNT_PATTERN"]

AMOUNT_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"

Amount = Annotated[
    Decimal,
    Field(allow_inf_nan=False),
    PlainSerializer(lambda value: format(value, "f"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN, "examples": ["129.90"]}),
]
"""A decimal amount, serialised as a plain decimal string (never exponent notation)."""

CurrencyCode = Annotated[
    str,
    Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 alphabetic code, e.g. PLN, EUR", examples=["PLN"]),
]
