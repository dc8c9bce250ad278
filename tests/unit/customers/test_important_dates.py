"""When important dates occur: 29 February, New Year wrap, window bounds and limits."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from relacja_customers.domain.important_dates import (
    MAX_WINDOW_DAYS,
    Segment,
    WindowError,
    check_important_date,
    check_window,
    next_occurrence,
    observed_on,
    occurrences_between,
    segments,
    stored_range,
    years_since,
)
from relacja_customers.workers import seconds_until_next_run

TODAY = date(2026, 6, 15)


# -- observed_on: 29 February --------------------------------------------------------------


@pytest.mark.parametrize("year", [2024, 2028, 2000, 2400])
def test_29_february_is_observed_on_the_day_in_leap_years(year: int) -> None:
    assert observed_on(2, 29, year) == date(year, 2, 29)


@pytest.mark.parametrize("year", [2025, 2026, 2027, 1900, 2100])
def test_29_february_is_observed_on_28_february_in_common_years(year: int) -> None:
    assert observed_on(2, 29, year) == date(year, 2, 28)


def test_other_dates_are_observed_on_their_own_day() -> None:
    assert observed_on(2, 28, 2025) == date(2025, 2, 28)
    assert observed_on(3, 1, 2025) == date(2025, 3, 1)
    assert observed_on(12, 31, 2025) == date(2025, 12, 31)


# -- windows -------------------------------------------------------------------------------


def test_window_bounds_are_inclusive() -> None:
    assert occurrences_between(6, 15, date(2026, 6, 15), date(2026, 6, 20)) == [date(2026, 6, 15)]
    assert occurrences_between(6, 20, date(2026, 6, 15), date(2026, 6, 20)) == [date(2026, 6, 20)]
    assert occurrences_between(6, 14, date(2026, 6, 15), date(2026, 6, 20)) == []
    assert occurrences_between(6, 21, date(2026, 6, 15), date(2026, 6, 20)) == []


def test_one_day_window() -> None:
    assert occurrences_between(6, 15, TODAY, TODAY) == [TODAY]
    assert occurrences_between(6, 16, TODAY, TODAY) == []


def test_window_wraps_new_year() -> None:
    first, last = date(2025, 12, 20), date(2026, 1, 10)
    assert occurrences_between(12, 24, first, last) == [date(2025, 12, 24)]
    assert occurrences_between(12, 31, first, last) == [date(2025, 12, 31)]
    assert occurrences_between(1, 1, first, last) == [date(2026, 1, 1)]
    assert occurrences_between(1, 10, first, last) == [date(2026, 1, 10)]
    assert occurrences_between(1, 11, first, last) == []
    assert occurrences_between(12, 19, first, last) == []
    assert occurrences_between(6, 1, first, last) == []


def test_29_february_in_a_window_of_a_common_year() -> None:
    # observed on 28 Feb 2026: inside a window ending on 28 Feb, outside one starting 1 March
    assert occurrences_between(2, 29, date(2026, 2, 20), date(2026, 2, 28)) == [date(2026, 2, 28)]
    assert occurrences_between(2, 29, date(2026, 2, 28), date(2026, 2, 28)) == [date(2026, 2, 28)]
    assert occurrences_between(2, 29, date(2026, 3, 1), date(2026, 3, 10)) == []
    assert occurrences_between(2, 29, date(2026, 2, 1), date(2026, 2, 27)) == []


def test_29_february_in_a_window_of_a_leap_year() -> None:
    assert occurrences_between(2, 29, date(2028, 2, 28), date(2028, 2, 28)) == []
    assert occurrences_between(2, 29, date(2028, 2, 29), date(2028, 3, 5)) == [date(2028, 2, 29)]
    assert occurrences_between(2, 28, date(2028, 2, 29), date(2028, 3, 5)) == []


def test_29_february_in_a_window_across_new_year_into_a_leap_year() -> None:
    assert occurrences_between(2, 29, date(2027, 12, 1), date(2028, 3, 1)) == [date(2028, 2, 29)]
    assert occurrences_between(2, 29, date(2027, 2, 1), date(2028, 1, 31)) == [date(2027, 2, 28)]


def test_a_366_day_window_can_hold_a_date_twice() -> None:
    first = date(2025, 1, 1)
    last = first + timedelta(days=MAX_WINDOW_DAYS - 1)  # 2026-01-01
    assert occurrences_between(1, 1, first, last) == [date(2025, 1, 1), date(2026, 1, 1)]
    assert occurrences_between(1, 2, first, last) == [date(2025, 1, 2)]


def test_a_full_leap_year_window_holds_every_date_once() -> None:
    first, last = date(2028, 1, 1), date(2028, 12, 31)
    for day in (date(2028, 1, 1) + timedelta(days=n) for n in range(366)):
        assert occurrences_between(day.month, day.day, first, last) == [day]


def test_window_of_exactly_the_maximum_is_accepted() -> None:
    check_window(TODAY, TODAY + timedelta(days=MAX_WINDOW_DAYS - 1))


def test_window_longer_than_the_maximum_is_rejected() -> None:
    with pytest.raises(WindowError) as raised:
        check_window(TODAY, TODAY + timedelta(days=MAX_WINDOW_DAYS))
    assert raised.value.field == "to"
    with pytest.raises(WindowError):
        occurrences_between(1, 1, TODAY, TODAY + timedelta(days=400))


def test_reversed_window_is_rejected() -> None:
    with pytest.raises(WindowError) as raised:
        check_window(TODAY, TODAY - timedelta(days=1))
    assert raised.value.field == "to"


def test_next_occurrence() -> None:
    assert next_occurrence(6, 15, TODAY) == TODAY
    assert next_occurrence(6, 14, TODAY) == date(2027, 6, 14)
    assert next_occurrence(2, 29, date(2026, 3, 1)) == date(2027, 2, 28)
    assert next_occurrence(2, 29, date(2027, 3, 1)) == date(2028, 2, 29)


def test_years_since() -> None:
    assert years_since(1990, date(2026, 5, 3)) == 36
    assert years_since(None, date(2026, 5, 3)) is None


# -- segments and the SQL pre-filter -------------------------------------------------------


def test_segments_cut_the_window_at_new_year() -> None:
    assert segments(date(2025, 12, 20), date(2026, 1, 10)) == [
        Segment(2025, date(2025, 12, 20), date(2025, 12, 31)),
        Segment(2026, date(2026, 1, 1), date(2026, 1, 10)),
    ]
    assert segments(TODAY, TODAY) == [Segment(2026, TODAY, TODAY)]


def test_stored_range_extends_to_29_february_only_when_a_common_year_segment_ends_on_28_february() -> None:
    assert stored_range(Segment(2026, date(2026, 2, 1), date(2026, 2, 28))) == ((2, 1), (2, 29))
    assert stored_range(Segment(2028, date(2028, 2, 1), date(2028, 2, 28))) == ((2, 1), (2, 28))
    assert stored_range(Segment(2026, date(2026, 3, 1), date(2026, 3, 31))) == ((3, 1), (3, 31))
    assert stored_range(Segment(2026, date(2026, 1, 1), date(2026, 12, 31))) == ((1, 1), (12, 31))


def _in_stored_ranges(month: int, day: int, first: date, last: date) -> int:
    """How many segments' stored ranges hold (month, day): what the SQL returns."""
    count = 0
    for segment in segments(first, last):
        low, high = stored_range(segment)
        count += low <= (month, day) <= high
    return count


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2026, 2, 20), date(2026, 2, 28)),
        (date(2026, 2, 28), date(2026, 3, 1)),
        (date(2026, 3, 1), date(2026, 3, 3)),
        (date(2028, 2, 27), date(2028, 2, 28)),
        (date(2028, 2, 28), date(2028, 3, 1)),
        (date(2025, 12, 25), date(2026, 1, 5)),
        (date(2027, 12, 1), date(2028, 3, 1)),
        (date(2025, 1, 1), date(2026, 1, 1)),
        (date(2025, 3, 1), date(2026, 3, 1)),
        (date(2026, 6, 15), date(2026, 6, 22)),
    ],
)
def test_the_sql_pre_filter_matches_the_pure_rule_for_every_month_and_day(first: date, last: date) -> None:
    for day in (date(2000, 1, 1) + timedelta(days=n) for n in range(366)):  # 2000: every month/day incl. 29 Feb
        assert _in_stored_ranges(day.month, day.day, first, last) == len(
            occurrences_between(day.month, day.day, first, last)
        ), day


# -- validation of a stored date -----------------------------------------------------------


def test_valid_dates() -> None:
    assert check_important_date("birthday", 2, 29, None, None, today=TODAY) == []
    assert check_important_date("birthday", 2, 29, 2000, None, today=TODAY) == []
    assert check_important_date("name_day", 12, 31, None, None, today=TODAY) == []
    assert check_important_date("custom", 4, 30, 2010, "First order", today=TODAY) == []
    assert check_important_date("birthday", 6, 15, 2026, None, today=TODAY) == []  # born today


@pytest.mark.parametrize(
    ("kind", "month", "day", "year", "label", "field"),
    [
        ("birthday", 2, 30, None, None, "day"),
        ("birthday", 4, 31, None, None, "day"),
        ("birthday", 13, 1, None, None, "month"),
        ("birthday", 0, 1, None, None, "month"),
        ("birthday", 1, 0, None, None, "day"),
        ("birthday", 2, 29, 2023, None, "year"),
        ("birthday", 2, 29, 1900, None, "year"),
        ("birthday", 6, 16, 2026, None, "year"),
        ("custom", 1, 1, None, None, "label"),
    ],
)
def test_invalid_dates_name_the_field(
    kind: str, month: int, day: int, year: int | None, label: str | None, field: str
) -> None:
    errors = check_important_date(kind, month, day, year, label, today=TODAY)
    assert [name for name, _ in errors] == [field]


def test_a_future_anniversary_year_is_allowed() -> None:
    assert check_important_date("contract_anniversary", 1, 1, 2030, None, today=TODAY) == []


# -- the daily run -------------------------------------------------------------------------


def test_next_run_later_today_or_tomorrow() -> None:
    run_at = time(0, 5)
    assert seconds_until_next_run(datetime(2026, 6, 15, 0, 0, tzinfo=UTC), run_at) == 300
    assert seconds_until_next_run(datetime(2026, 6, 15, 0, 5, tzinfo=UTC), run_at) == 86400
    assert seconds_until_next_run(datetime(2026, 6, 15, 23, 0, tzinfo=UTC), run_at) == 3900
