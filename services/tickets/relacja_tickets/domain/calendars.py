"""Working-hours calendars as clients write them, checked and turned into :class:`Calendar`.

    {"time_zone": "Europe/Warsaw",
     "working_hours": {"monday": [{"start": "09:00", "end": "17:00"}], ...},
     "holidays": ["2026-12-24", "2026-12-25"]}

Times are wall-clock ``HH:MM``; ``24:00`` is allowed as an end. A weekday missing from
``working_hours`` (or with an empty list) is a day off. The intervals of a day must not
overlap. ``calendar_errors`` lists every problem as ``(field, message)``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from .business_time import MINUTES_PER_DAY, Calendar

__all__ = ["WEEKDAYS", "calendar_errors", "to_calendar", "parse_minute", "format_minute", "is_time_zone"]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def parse_minute(text: str) -> int | None:
    """Minutes after midnight of ``HH:MM`` (``24:00`` is 1440); None if malformed."""
    match = _CLOCK.match(text)
    if not match:
        return None
    minute = int(match.group(1)) * 60 + int(match.group(2))
    return minute if minute <= MINUTES_PER_DAY else None


def format_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_time_zone(name: str) -> bool:
    if name not in _zone_names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def calendar_errors(time_zone: str, working_hours: Mapping[str, Sequence[tuple[str, str]]]) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    if not is_time_zone(time_zone):
        errors.append(("time_zone", f"unknown IANA time zone {time_zone!r}"))
    for day, intervals in working_hours.items():
        if day not in WEEKDAYS:
            errors.append((f"working_hours.{day}", f"not a weekday; use one of {', '.join(WEEKDAYS)}"))
            continue
        parsed: list[tuple[int, int]] = []
        for index, (start_text, end_text) in enumerate(intervals):
            field = f"working_hours.{day}.{index}"
            start, end = parse_minute(start_text), parse_minute(end_text)
            if start is None or start == MINUTES_PER_DAY:
                errors.append((f"{field}.start", "must be HH:MM between 00:00 and 23:59"))
            if end is None:
                errors.append((f"{field}.end", "must be HH:MM between 00:01 and 24:00"))
            if start is not None and end is not None:
                if end <= start:
                    errors.append((field, "end must be after start"))
                else:
                    parsed.append((start, end))
        parsed.sort()
        for (_, first_end), (second_start, _) in pairwise(parsed):
            if second_start < first_end:
                errors.append((f"working_hours.{day}", "intervals overlap"))
                break
    if not errors and not any(working_hours.values()):
        errors.append(
            ("working_hours", "at least one working interval is needed, or no deadline could ever be reached")
        )
    return errors


def to_calendar(
    time_zone: str, working_hours: Mapping[str, Sequence[tuple[str, str]]], holidays: Sequence[date]
) -> Calendar:
    """The calendar of a definition that ``calendar_errors`` accepted."""
    hours = {
        WEEKDAYS.index(day) + 1: sorted((_accepted_minute(s), _accepted_minute(e)) for s, e in intervals)
        for day, intervals in working_hours.items()
    }
    return Calendar(ZoneInfo(time_zone), hours, frozenset(holidays))


def _accepted_minute(text: str) -> int:
    minute = parse_minute(text)
    if minute is None:  # calendar_errors rejects such a definition before it gets here
        raise ValueError(f"not a time of day: {text!r}")
    return minute
