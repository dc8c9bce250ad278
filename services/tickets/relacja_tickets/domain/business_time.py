"""Business-time arithmetic: counting seconds only inside a team's working hours.

A :class:`Calendar` is the working hours of each weekday in local (wall-clock) time of an
IANA time zone, plus holidays (local dates with no working hours at all). Two questions
are answered, both exact to the second and both pure:

    add_business_seconds(calendar, start, seconds)   the instant ``seconds`` of working time after ``start``
    business_seconds_between(calendar, start, end)   working seconds in ``[start, end)``

Rules (docs/tickets.md, "Business time"):

- Working hours are wall-clock intervals ``[start, end)`` in minutes of the local day
  (``end`` may be 1440, "24:00"). They are turned into real instants with ``zoneinfo``
  day by day, so a day on which the clocks change has as many real seconds of work as
  the clocks say: 00:00–24:00 on the spring-forward day is 23 hours, 09:00–17:00 is
  still 8 hours, and a deadline at 09:00 local stays at 09:00 local across the change.
- A wall-clock time that does not exist (in the spring-forward gap) is read with the
  offset before the change, i.e. it moves forward by the gap (02:30 → 03:30 in Warsaw);
  an ambiguous one (the autumn hour that happens twice) is its first occurrence.
- A deadline that falls exactly at the end of a working interval is that end (17:00),
  not the start of the next interval.
- Instants are timezone-aware; results are in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "MAX_HORIZON_DAYS",
    "Calendar",
    "WorkingInterval",
    "add_business_seconds",
    "business_seconds_between",
    "working_intervals",
]

MINUTES_PER_DAY = 1440
# A calendar with no working time at all would never reach a deadline; the search stops
# after this many days without one working minute (a year of holidays is a bad calendar).
_MAX_IDLE_DAYS = 366
# And after this many days in all, which bounds the work of one call (a policy whose target
# is not reached within it is refused when it is written).
MAX_HORIZON_DAYS = 3660

WorkingInterval = tuple[int, int]  # [start, end) in minutes after local midnight


@dataclass(frozen=True)
class Calendar:
    """Working hours per ISO weekday (1 = Monday … 7 = Sunday) in ``time_zone``, and holidays."""

    time_zone: ZoneInfo
    hours: Mapping[int, Sequence[WorkingInterval]]
    holidays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def always(cls, time_zone: str = "UTC") -> Calendar:
        """Round the clock, every day (a 24/7 team)."""
        return cls(ZoneInfo(time_zone), {day: [(0, MINUTES_PER_DAY)] for day in range(1, 8)})

    def intervals_on(self, day: date) -> Sequence[WorkingInterval]:
        if day in self.holidays:
            return ()
        return self.hours.get(day.isoweekday(), ())

    @property
    def has_working_time(self) -> bool:
        return any(end > start for intervals in self.hours.values() for start, end in intervals)


def _local_instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``minute`` of ``day`` in ``zone`` (see the module rules)."""
    if minute >= MINUTES_PER_DAY:
        day, minute = day + timedelta(days=1), minute - MINUTES_PER_DAY
    wall = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone)
    return wall.astimezone(UTC)


def working_intervals(calendar: Calendar, start_day: date) -> Iterator[tuple[datetime, datetime]]:
    """Real (UTC) working intervals from ``start_day`` on, in order; stops after a long idle
    stretch or ``MAX_HORIZON_DAYS``."""
    day, idle, last = start_day, 0, start_day + timedelta(days=MAX_HORIZON_DAYS)
    while idle < _MAX_IDLE_DAYS and day <= last:
        intervals = calendar.intervals_on(day)
        idle = 0 if intervals else idle + 1
        for start, end in intervals:
            begin, finish = _local_instant(day, start, calendar.time_zone), _local_instant(day, end, calendar.time_zone)
            if finish > begin:
                yield begin, finish
        day += timedelta(days=1)


def _first_day(calendar: Calendar, instant: datetime) -> date:
    # The previous local day too: its interval may run past midnight into ``instant``'s day
    # only if it ends at 24:00, which _local_instant maps to the next midnight — harmless.
    return instant.astimezone(calendar.time_zone).date() - timedelta(days=1)


def _require_aware(*instants: datetime) -> None:
    if any(i.tzinfo is None or i.utcoffset() is None for i in instants):
        raise ValueError("business-time arithmetic needs timezone-aware datetimes")


def add_business_seconds(calendar: Calendar, start: datetime, seconds: int) -> datetime:
    """The instant at which ``seconds`` of working time have passed since ``start`` (UTC).

    ``seconds == 0`` is ``start`` itself (even outside working hours). Raises ``ValueError``
    if the calendar has no working time to reach it.
    """
    _require_aware(start)
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    start = start.astimezone(UTC)
    if seconds == 0:
        return start
    if not calendar.has_working_time:
        raise ValueError("the calendar has no working hours")
    remaining = timedelta(seconds=seconds)
    for begin, end in working_intervals(calendar, _first_day(calendar, start)):
        if end <= start:
            continue
        begin = max(begin, start)
        available = end - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise ValueError(
        "the calendar does not reach the target: no working time for a year, or not enough within ten years"
    )


def business_seconds_between(calendar: Calendar, start: datetime, end: datetime) -> int:
    """Whole working seconds in ``[start, end)``; 0 if ``end <= start``."""
    _require_aware(start, end)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start or not calendar.has_working_time:
        return 0
    total = timedelta()
    for begin, finish in working_intervals(calendar, _first_day(calendar, start)):
        if begin >= end:
            break
        overlap = min(finish, end) - max(begin, start)
        if overlap > timedelta():
            total += overlap
    return int(total.total_seconds())
