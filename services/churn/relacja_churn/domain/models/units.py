"""Time units of the models: the clock in which x, t_x, T and horizons are measured.

Units are the singular names of docs/conventions.md (``day``, ``week``, ``month``). The
plural spellings (``days``, ``weeks``, ``months``) were the API's before; runs stored
then held them until migration 0005, and clients may still send them: ``canonical_unit``
maps either spelling to the singular one, and everything past the edges uses that.

A month is a calendar-average month (365.25 / 12 days), so a "12 month" horizon is one
year whatever the unit of fitting.
"""

from __future__ import annotations

from typing import Literal, cast

__all__ = ["DAYS_PER_MONTH", "DAYS_PER_UNIT", "DEPRECATED_UNITS", "TimeUnit", "canonical_unit", "units_per_month"]

TimeUnit = Literal["day", "week", "month"]

DAYS_PER_MONTH = 365.25 / 12

DAYS_PER_UNIT: dict[str, float] = {"day": 1.0, "week": 7.0, "month": DAYS_PER_MONTH}

#: The deprecated plural spelling of each unit → its name.
DEPRECATED_UNITS: dict[str, TimeUnit] = {"days": "day", "weeks": "week", "months": "month"}


def canonical_unit(unit: str) -> TimeUnit:
    """The singular name of a unit given in either spelling; ValueError for anything else."""
    if unit in DAYS_PER_UNIT:
        return cast(TimeUnit, unit)
    if unit in DEPRECATED_UNITS:
        return DEPRECATED_UNITS[unit]
    raise ValueError(f"unknown time unit {unit!r}: one of day, week, month")


def units_per_month(unit: str) -> float:
    """How many model time units make one month (week: 4.348)."""
    return DAYS_PER_MONTH / DAYS_PER_UNIT[canonical_unit(unit)]
