"""Recurring important dates (birthdays, name days, anniversaries): when they fall.

An important date is a month and a day, with an optional year (a birth year, the year a
contract began). Each calendar year it *occurs* once, on its observed date:

- normally the same month and day;
- **29 February** in a year without it is observed on **28 February** — the common CRM
  choice (the day still belongs to February, and a customer is never wished "happy
  birthday" in a month that is not theirs).

A window ``[first, last]`` (both days inclusive) of at most ``MAX_WINDOW_DAYS`` days asks
"which dates occur in these days?". A window may cross New Year (20 Dec – 10 Jan), and a
366-day window can hold two occurrences of one date (1 Jan 2025 and 1 Jan 2026), so the
answer is a list of occurrences.

The database side splits a window into per-calendar-year ``segments`` and pre-filters
``(month, day)`` with :func:`stored_range` — an exact translation of "observed in the
segment" into a sargable range on the stored month and day; :func:`observed_on` then
gives each row its date.

Pure functions over ``datetime.date``; no I/O.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

__all__ = [
    "MAX_WINDOW_DAYS",
    "KINDS",
    "Segment",
    "WindowError",
    "check_important_date",
    "observed_on",
    "occurrences_between",
    "next_occurrence",
    "check_window",
    "segments",
    "stored_range",
    "years_since",
]

MAX_WINDOW_DAYS = 366
KINDS = ("birthday", "name_day", "purchase_anniversary", "contract_anniversary", "custom")

_LEAP_YEAR = 2000  # any leap year: for checking a month/day without a year


class WindowError(ValueError):
    """A window that is reversed or longer than ``MAX_WINDOW_DAYS``; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def check_important_date(
    kind: str, month: int, day: int, year: int | None, label: str | None, *, today: date
) -> list[tuple[str, str]]:
    """The problems of an important date as ``(field, message)`` pairs; empty when valid.

    - month/day must exist in some year (29 February does; 30 February does not);
    - with a year, the full date must exist (29 February 2023 does not) and a birthday
      cannot lie in the future;
    - a ``custom`` date needs a label: without one nobody knows what it is.
    """
    errors: list[tuple[str, str]] = []
    if not 1 <= month <= 12:
        return [("month", "must be between 1 and 12")]
    if not 1 <= day <= calendar.monthrange(_LEAP_YEAR, month)[1]:
        return [("day", f"month {month} has no day {day}")]
    if year is not None:
        if not 1 <= year <= 9999:
            errors.append(("year", "must be between 1 and 9999"))
        elif not 1 <= day <= calendar.monthrange(year, month)[1]:
            errors.append(("year", f"{year}-{month:02d}-{day:02d} does not exist ({year} is not a leap year)"))
        elif kind == "birthday" and date(year, month, day) > today:
            errors.append(("year", "a birthday cannot be in the future"))
    if kind == "custom" and not label:
        errors.append(("label", "a custom date needs a label"))
    return errors


def observed_on(month: int, day: int, year: int) -> date:
    """The day in ``year`` on which the date ``month``/``day`` is observed (29 Feb → 28 Feb in common years)."""
    if month == 2 and day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def check_window(first: date, last: date) -> None:
    """Raise :class:`WindowError` unless ``first <= last`` and the window spans at most ``MAX_WINDOW_DAYS`` days."""
    if last < first:
        raise WindowError("to", "must not be before 'from'")
    if (last - first).days + 1 > MAX_WINDOW_DAYS:
        raise WindowError("to", f"the window may span at most {MAX_WINDOW_DAYS} days (both ends included)")


def occurrences_between(month: int, day: int, first: date, last: date) -> list[date]:
    """Every observed date of ``month``/``day`` in ``[first, last]``, oldest first."""
    check_window(first, last)
    found = []
    for year in range(first.year, last.year + 1):
        observed = observed_on(month, day, year)
        if first <= observed <= last:
            found.append(observed)
    return found


def next_occurrence(month: int, day: int, on_or_after: date) -> date:
    """The first observed date of ``month``/``day`` on or after ``on_or_after``."""
    observed = observed_on(month, day, on_or_after.year)
    return observed if observed >= on_or_after else observed_on(month, day, on_or_after.year + 1)


def years_since(year: int | None, occurrence: date) -> int | None:
    """Which anniversary an occurrence is (the age at a birthday); ``None`` without a year."""
    return None if year is None else occurrence.year - year


@dataclass(frozen=True)
class Segment:
    """The part of a window inside one calendar year."""

    year: int
    first: date
    last: date


def segments(first: date, last: date) -> list[Segment]:
    """The window cut at New Year: one segment per calendar year it touches (at most two)."""
    check_window(first, last)
    return [
        Segment(year, max(first, date(year, 1, 1)), min(last, date(year, 12, 31)))
        for year in range(first.year, last.year + 1)
    ]


def stored_range(segment: Segment) -> tuple[tuple[int, int], tuple[int, int]]:
    """The inclusive range of stored ``(month, day)`` whose observed date lies in ``segment``.

    Exact, not just a superset: in a common year a stored 29 February is observed on
    28 February, so a segment ending on 28 February extends to (2, 29); a segment
    starting on 1 March excludes it, as the plain range already does.
    """
    low = (segment.first.month, segment.first.day)
    high = (segment.last.month, segment.last.day)
    if high == (2, 28) and not calendar.isleap(segment.year):
        high = (2, 29)
    return low, high
