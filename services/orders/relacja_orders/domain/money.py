"""Money arithmetic: ``Decimal`` only, rounded to the currency's minor unit.

Rounding is half-up (commercial rounding, what invoices and tills use), applied to each
line's discount and tax, never to the sums: a sum of rounded amounts is already exact.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

__all__ = ["ZERO", "minor_units", "round_money", "has_valid_scale"]

ZERO = Decimal("0")

# ISO 4217 currencies whose minor unit is not 2 digits; every other code has 2.
_MINOR_UNITS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


def minor_units(currency: str) -> int:
    """Digits after the decimal point in amounts of ``currency``."""
    return _MINOR_UNITS.get(currency, 2)


_QUANTUM = {digits: Decimal(1).scaleb(-digits) for digits in (0, 2, 3)}


def round_money(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-up to the currency's minor unit (always with that many digits)."""
    return amount.quantize(_QUANTUM[_MINOR_UNITS.get(currency, 2)], rounding=ROUND_HALF_UP)


def has_valid_scale(amount: Decimal, currency: str) -> bool:
    """Whether ``amount`` needs no more digits than the currency has (e.g. 9.99 PLN, not 9.999)."""
    exponent = amount.normalize().as_tuple().exponent
    return isinstance(exponent, int) and -exponent <= minor_units(currency)
