"""Business-time arithmetic: weekends, holidays, time zones, DST changes, interval edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from relacja_tickets.domain.business_time import Calendar, add_business_seconds, business_seconds_between

WARSAW = ZoneInfo("Europe/Warsaw")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600
OFFICE = [(9 * 60, 17 * 60)]


def office(zone: ZoneInfo = WARSAW, holidays: set[date] | None = None) -> Calendar:
    """Monday to Friday, 09:00–17:00 local time."""
    return Calendar(zone, dict.fromkeys(range(1, 6), OFFICE), frozenset(holidays or ()))


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


# 2026-11-23 is a Monday.
def test_within_one_working_day() -> None:
    due = add_business_seconds(office(), local(WARSAW, 2026, 11, 23, 10, 0), 2 * HOUR)
    assert due == local(WARSAW, 2026, 11, 23, 12, 0)
    assert due.tzinfo == UTC


def test_deadline_at_the_end_of_the_day_is_that_end_not_next_morning() -> None:
    assert add_business_seconds(office(), local(WARSAW, 2026, 11, 23, 9, 0), 8 * HOUR) == local(
        WARSAW, 2026, 11, 23, 17, 0
    )


def test_start_before_opening_counts_from_opening() -> None:
    assert add_business_seconds(office(), local(WARSAW, 2026, 11, 23, 7, 30), HOUR) == local(
        WARSAW, 2026, 11, 23, 10, 0
    )


def test_start_after_closing_counts_from_next_morning() -> None:
    assert add_business_seconds(office(), local(WARSAW, 2026, 11, 23, 19, 0), HOUR) == local(
        WARSAW, 2026, 11, 24, 10, 0
    )


def test_friday_afternoon_rolls_over_the_weekend() -> None:
    friday = local(WARSAW, 2026, 11, 27, 16, 0)
    assert add_business_seconds(office(), friday, 2 * HOUR) == local(WARSAW, 2026, 11, 30, 10, 0)


def test_start_on_a_weekend_waits_for_monday() -> None:
    saturday = local(WARSAW, 2026, 11, 28, 12, 0)
    assert add_business_seconds(office(), saturday, 30 * 60) == local(WARSAW, 2026, 11, 30, 9, 30)


def test_holidays_are_skipped() -> None:
    # Thursday 2026-12-24 and Friday 2026-12-25 off: Wednesday 16:00 + 2 h is Monday 10:00.
    calendar = office(holidays={date(2026, 12, 24), date(2026, 12, 25)})
    assert add_business_seconds(calendar, local(WARSAW, 2026, 12, 23, 16, 0), 2 * HOUR) == local(
        WARSAW, 2026, 12, 28, 10, 0
    )


def test_a_holiday_is_a_local_date() -> None:
    # 23:30 UTC on Wednesday is already Thursday (a holiday) in Warsaw.
    calendar = office(holidays={date(2026, 12, 24)})
    start = datetime(2026, 12, 23, 23, 30, tzinfo=UTC)
    assert add_business_seconds(calendar, start, HOUR) == local(WARSAW, 2026, 12, 25, 10, 0)


def test_multi_day_targets() -> None:
    # 20 business hours from Monday 09:00: Mon 8 h, Tue 8 h, Wed 4 h → Wednesday 13:00.
    assert add_business_seconds(office(), local(WARSAW, 2026, 11, 23, 9, 0), 20 * HOUR) == local(
        WARSAW, 2026, 11, 25, 13, 0
    )


def test_the_same_hours_in_another_time_zone_are_other_instants() -> None:
    start = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 13:00 in Warsaw, 07:00 in New York
    assert add_business_seconds(office(WARSAW), start, HOUR) == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    assert add_business_seconds(office(NEW_YORK), start, HOUR) == datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def test_spring_forward_weekend_keeps_local_opening_time() -> None:
    # Clocks go forward on Sunday 2026-03-29 in Warsaw (UTC+1 → UTC+2).
    friday = local(WARSAW, 2026, 3, 27, 16, 0)  # 15:00 UTC
    due = add_business_seconds(office(), friday, 2 * HOUR)
    assert due == local(WARSAW, 2026, 3, 30, 10, 0)
    assert due == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def test_fall_back_weekend_keeps_local_opening_time() -> None:
    # Clocks go back on Sunday 2026-10-25 in Warsaw (UTC+2 → UTC+1).
    friday = local(WARSAW, 2026, 10, 23, 16, 0)
    due = add_business_seconds(office(), friday, 2 * HOUR)
    assert due == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)  # 10:00 local at UTC+1


def test_round_the_clock_day_of_spring_forward_has_23_hours() -> None:
    calendar = Calendar.always("Europe/Warsaw")
    day = business_seconds_between(calendar, local(WARSAW, 2026, 3, 29, 0, 0), local(WARSAW, 2026, 3, 30, 0, 0))
    assert day == 23 * HOUR
    # 24 business hours from Saturday noon are 24 real hours: Sunday 13:00 by the new clock.
    assert add_business_seconds(calendar, local(WARSAW, 2026, 3, 28, 12, 0), 24 * HOUR) == local(
        WARSAW, 2026, 3, 29, 13, 0
    )


def test_round_the_clock_day_of_fall_back_has_25_hours() -> None:
    calendar = Calendar.always("Europe/Warsaw")
    assert (
        business_seconds_between(calendar, local(WARSAW, 2026, 10, 25, 0, 0), local(WARSAW, 2026, 10, 26, 0, 0))
        == 25 * HOUR
    )


def test_working_hours_inside_the_spring_forward_gap_do_not_exist() -> None:
    # 02:00–03:00 on 2026-03-29 never happens in Warsaw: no working time that night.
    calendar = Calendar(WARSAW, {7: [(120, 180)], 1: OFFICE})
    start = local(WARSAW, 2026, 3, 29, 0, 0)
    assert business_seconds_between(calendar, start, local(WARSAW, 2026, 3, 29, 23, 0)) == 0
    assert add_business_seconds(calendar, start, HOUR) == local(WARSAW, 2026, 3, 30, 10, 0)


def test_working_hours_across_the_repeated_autumn_hour_count_real_time() -> None:
    # 01:00–04:00 local on 2026-10-25 lasts four real hours (02:00–03:00 happens twice).
    calendar = Calendar(WARSAW, {7: [(60, 240)]})
    assert (
        business_seconds_between(calendar, local(WARSAW, 2026, 10, 25, 0, 0), local(WARSAW, 2026, 10, 26, 0, 0))
        == 4 * HOUR
    )


def test_between_counts_only_working_time() -> None:
    # Friday 15:00 to Monday 11:00: 2 h on Friday, 2 h on Monday.
    assert (
        business_seconds_between(office(), local(WARSAW, 2026, 11, 27, 15, 0), local(WARSAW, 2026, 11, 30, 11, 0))
        == 4 * HOUR
    )
    assert (
        business_seconds_between(office(), local(WARSAW, 2026, 11, 28, 8, 0), local(WARSAW, 2026, 11, 29, 20, 0)) == 0
    )
    assert (
        business_seconds_between(office(), local(WARSAW, 2026, 11, 30, 11, 0), local(WARSAW, 2026, 11, 27, 15, 0)) == 0
    )


def test_split_shifts() -> None:
    calendar = Calendar(WARSAW, {1: [(8 * 60, 12 * 60), (13 * 60, 17 * 60)]})
    assert add_business_seconds(calendar, local(WARSAW, 2026, 11, 23, 11, 0), 2 * HOUR) == local(
        WARSAW, 2026, 11, 23, 14, 0
    )


def test_midnight_end_of_day() -> None:
    calendar = Calendar(WARSAW, {1: [(22 * 60, 1440)], 2: [(0, 2 * 60)]})
    assert add_business_seconds(calendar, local(WARSAW, 2026, 11, 23, 23, 0), 2 * HOUR) == local(
        WARSAW, 2026, 11, 24, 1, 0
    )


@pytest.mark.parametrize("hours_offset", [0, 5, 11, 17, 30, 61, 100, 130, 163])
@pytest.mark.parametrize("seconds", [1, 59, HOUR, 8 * HOUR, 41 * HOUR + 17])
def test_between_inverts_add(hours_offset: int, seconds: int) -> None:
    calendar = office(holidays={date(2026, 3, 31)})
    start = local(WARSAW, 2026, 3, 25, 6, 13) + timedelta(hours=hours_offset)  # across the DST change
    due = add_business_seconds(calendar, start, seconds)
    assert business_seconds_between(calendar, start, due) == seconds


def test_zero_is_the_start_itself() -> None:
    sunday = local(WARSAW, 2026, 11, 29, 12, 0)
    assert add_business_seconds(office(), sunday, 0) == sunday


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        add_business_seconds(office(), datetime(2026, 11, 23, 10, 0), HOUR)  # naive
    with pytest.raises(ValueError):
        add_business_seconds(office(), local(WARSAW, 2026, 11, 23, 10, 0), -1)
    with pytest.raises(ValueError):
        add_business_seconds(Calendar(WARSAW, {}), local(WARSAW, 2026, 11, 23, 10, 0), HOUR)
    every_day_off = Calendar(WARSAW, {1: OFFICE}, frozenset(date(2026, 1, 1) + timedelta(days=i) for i in range(800)))
    with pytest.raises(ValueError):
        add_business_seconds(every_day_off, local(WARSAW, 2026, 1, 1, 10, 0), HOUR)


def test_the_search_is_bounded_to_the_horizon() -> None:
    # One working minute a week cannot give a year of business minutes within ten years.
    sparse = Calendar(WARSAW, {1: [(9 * 60, 9 * 60 + 1)]})
    start = local(WARSAW, 2026, 11, 23, 8, 0)
    assert add_business_seconds(sparse, start, 60 * 500) > start + timedelta(days=3000)
    with pytest.raises(ValueError):
        add_business_seconds(sparse, start, 60 * 525_600)
