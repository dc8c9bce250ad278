"""The weighted forecast's arithmetic, in the reporting currency, to the cent.

For the deals whose expected close date (or, once won, close date) falls in the period:

    weighted   Σ amount × probability / 100   (won deals at 100 %, lost deals not at all)
    committed  Σ amount of won deals and of open deals at or above the commit probability
    best_case  Σ amount of won deals and of every open deal

Currency: each amount is converted with the rate valid on the deal's date — the rate row
of its currency with the latest ``valid_from`` on or before that date (``rate_on``). A rate
is "units of the reporting currency per unit of the deal's currency"; the reporting
currency itself is 1. A deal with no rate for its date is not converted: its currency is
reported in ``unconverted`` so nobody reads a partial sum as a total.

Exactness: amounts and rates are ``Decimal``; each cell is summed exactly and rounded once,
at the end, to 0.01 with ROUND_HALF_UP (commercial rounding), so the figure does not depend
on how the deals were grouped on the way. The database sums per (currency, date, group) and
this module converts and adds the partial sums: a conversion is linear, so
Σ(amount × rate) over deals equals rate × Σ amount over deals of one currency and date.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["CENT", "RateTable", "PartialSum", "ForecastCell", "weighted", "to_cents", "add_up"]

CENT = Decimal("0.01")
_HUNDRED = Decimal(100)


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def weighted(amount: Decimal, probability: int) -> Decimal:
    """amount × probability / 100, exact (rounding happens once per reported cell)."""
    return amount * probability / _HUNDRED


class RateTable:
    """Dated conversion rates into the reporting currency."""

    def __init__(self, reporting_currency: str, rates: Iterable[tuple[str, date, Decimal]]) -> None:
        self.reporting_currency = reporting_currency
        by_currency: dict[str, list[tuple[date, Decimal]]] = {}
        for currency, valid_from, rate in rates:
            by_currency.setdefault(currency, []).append((valid_from, rate))
        self._days = {c: [d for d, _ in sorted(rows)] for c, rows in by_currency.items()}
        self._rates = {c: [r for _, r in sorted(rows)] for c, rows in by_currency.items()}

    def rate_on(self, currency: str, day: date) -> Decimal | None:
        if currency == self.reporting_currency:
            return Decimal(1)
        days = self._days.get(currency)
        if not days:
            return None
        index = bisect.bisect_right(days, day) - 1
        return self._rates[currency][index] if index >= 0 else None


@dataclass(frozen=True)
class PartialSum:
    """Sums of one group's deals in one currency on one date (one row of the database's GROUP BY)."""

    group: tuple[str | None, ...]
    currency: str
    day: date
    weighted: Decimal
    committed: Decimal
    best_case: Decimal
    deals: int


@dataclass
class ForecastCell:
    weighted: Decimal = Decimal(0)
    committed: Decimal = Decimal(0)
    best_case: Decimal = Decimal(0)
    deals: int = 0
    unconverted: set[str] = field(default_factory=set)

    def rounded(self) -> ForecastCell:
        return ForecastCell(
            to_cents(self.weighted), to_cents(self.committed), to_cents(self.best_case), self.deals, self.unconverted
        )


def add_up(
    partials: Sequence[PartialSum], rates: RateTable
) -> tuple[Mapping[tuple[str | None, ...], ForecastCell], ForecastCell]:
    """Cells per group and the total, converted and rounded to the cent."""
    cells: dict[tuple[str | None, ...], ForecastCell] = {}
    total = ForecastCell()
    for part in partials:
        cell = cells.setdefault(part.group, ForecastCell())
        rate = rates.rate_on(part.currency, part.day)
        for target in (cell, total):
            target.deals += part.deals
            if rate is None:
                target.unconverted.add(part.currency)
                continue
            target.weighted += part.weighted * rate
            target.committed += part.committed * rate
            target.best_case += part.best_case * rate
    return {group: cell.rounded() for group, cell in cells.items()}, total.rounded()
