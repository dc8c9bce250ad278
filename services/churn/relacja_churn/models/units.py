"""Time units of the models: the clock in which x, t_x, T and horizons are measured.

A month is a calendar-average month (365.25 / 12 days), so a "12 month" horizon is one
year whatever the unit of fitting.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["DAYS_PER_MONTH", "DAYS_PER_UNIT", "TimeUnit", "units_per_month"]

TimeUnit = Literal["days", "weeks", "months"]

DAYS_PER_MONTH = 365.25 / 12

DAYS_PER_UNIT: dict[str, float] = {"days": 1.0, "weeks": 7.0, "months": DAYS_PER_MONTH}


def units_per_month(unit: str) -> float:
    """How many model time units make one month (weeks: 4.348)."""
    return DAYS_PER_MONTH / DAYS_PER_UNIT[unit]
