"""Money arithmetic: ``Decimal`` only, rounded to the currency's minor unit.

Rounding is half-up (commercial rounding, what invoices and tills use), applied to each
line's discount and tax, never to the sums: a sum of rounded amounts is already exact.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType

__all__ = ["ZERO", "DEFAULT_MINOR_UNITS", "MINOR_UNITS", "minor_units", "round_money", "has_valid_scale"]

ZERO = Decimal("0")

DEFAULT_MINOR_UNITS = 2

# ISO 4217 currencies whose minor unit is not DEFAULT_MINOR_UNITS digits (read-only: the
# import's SQL spells the same table out, bulk_events.py).
MINOR_UNITS = MappingProxyType(
    {
        **dict.fromkeys(
            (
                "BIF",
                "CLP",
                "DJF",
                "GNF",
                "ISK",
                "JPY",
                "KMF",
                "KRW",
                "PYG",
                "RWF",
                "UGX",
                "VND",
                "VUV",
                "XAF",
                "XOF",
                "XPF",
            ),
            0,
        ),
        **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    }
)


def minor_units(currency: str) -> int:
    """Digits after the decimal point in amounts of ``currency``."""
    return MINOR_UNITS.get(currency, DEFAULT_MINOR_UNITS)


_QUANTUM = {digits: Decimal(1).scaleb(-digits) for digits in (0, 2, 3)}


def round_money(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-up to the currency's minor unit (always with that many digits)."""
    return amount.quantize(_QUANTUM[minor_units(currency)], rounding=ROUND_HALF_UP)


def has_valid_scale(amount: Decimal, currency: str) -> bool:
    """Whether ``amount`` needs no more digits than the currency has (e.g. 9.99 PLN, not 9.999)."""
    exponent = amount.normalize().as_tuple().exponent
    return isinstance(exponent, int) and -exponent <= minor_units(currency)
