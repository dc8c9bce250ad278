"""Pure rules behind the API's voice: time-unit spellings, the run's allowed actions, the
KPI range rule, and the run request's schema (singular units, deprecated plurals, strict types)."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from relacja_churn.api.schemas import RunCreate
from relacja_churn.domain.kpis import MAX_PERIODS, range_error
from relacja_churn.domain.models.summary import summarise
from relacja_churn.domain.models.units import DAYS_PER_UNIT, canonical_unit, units_per_month
from relacja_churn.domain.runs import IllegalTransition, allowed_actions, check_action


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("day", "day"),
        ("week", "week"),
        ("month", "month"),
        ("days", "day"),
        ("weeks", "week"),
        ("months", "month"),
    ],
)
def test_either_spelling_names_the_singular_unit(given: str, expected: str) -> None:
    assert canonical_unit(given) == expected
    assert units_per_month(given) == units_per_month(expected)


@pytest.mark.parametrize("unknown", ["year", "Week", "", "weekly"])
def test_an_unknown_unit_is_refused(unknown: str) -> None:
    with pytest.raises(ValueError, match="unknown time unit"):
        canonical_unit(unknown)


def test_the_units_are_the_singular_names() -> None:
    assert set(DAYS_PER_UNIT) == {"day", "week", "month"}
    # A stored plural (a run of the previous release) measures time the same way.
    old = summarise([0, 0], [1, 15], [1.0, 2.0], calibration_end_day=29, unit="weeks")
    new = summarise([0, 0], [1, 15], [1.0, 2.0], calibration_end_day=29, unit="week")
    assert (old.t_x[0], old.T[0]) == (new.t_x[0], new.T[0]) == (2.0, 4.0)


def test_only_a_succeeded_run_can_be_activated() -> None:
    check_action("succeeded", "activate")
    assert allowed_actions("succeeded") == ("activate",)
    for status in ("pending", "running", "failed"):
        with pytest.raises(IllegalTransition) as refused:
            check_action(status, "activate")
        assert (refused.value.current, refused.value.action, refused.value.allowed_actions) == (status, "activate", [])


def test_the_kpi_range_rule() -> None:
    assert range_error(date(2020, 1, 1), date(2020, 12, 31), "month") is None
    assert range_error(date(2020, 2, 1), date(2020, 1, 1), "month") == ("from", "after `to`")
    assert range_error(date(2020, 1, 1), date(2020, 1, 1).replace(year=2030), "month") == (
        "to",
        f"more than {MAX_PERIODS} months after `from`",
    )
    assert range_error(date(1900, 1, 1), date(2019, 12, 31), "year") is None  # 120 years


def test_a_run_request_takes_singular_units_and_the_deprecated_plurals() -> None:
    assert RunCreate.model_validate({"calibration_end": "2020-01-01", "time_unit": "weeks"}).time_unit == "week"
    assert RunCreate.model_validate({"calibration_end": "2020-01-01", "time_unit": "month"}).time_unit == "month"
    left_out = RunCreate.model_validate({"calibration_end": "2020-01-01"})
    assert (left_out.time_unit, left_out.horizon_months, left_out.monthly_discount_rate) == (None, None, None)
    schema = RunCreate.model_json_schema()["properties"]["time_unit"]["anyOf"][0]
    assert schema["enum"] == ["day", "week", "month", "days", "weeks", "months"]


@pytest.mark.parametrize(
    "wrong",
    [
        {"calibration_end": 20200101},
        {"calibration_end": "2020-01-01", "activate": 1},
        {"calibration_end": "2020-01-01", "horizon_months": "12"},
        {"calibration_end": "2020-01-01", "horizon_months": 121},
        {"calibration_end": "2020-01-01", "monthly_discount_rate": "0.01"},
        {"calibration_end": "2020-01-01", "holdout_end": "2019-12-31"},
        {"calibration_end": "2020-01-01", "acquired_from": "2020-01-02"},
    ],
)
def test_a_run_request_refuses_what_its_schema_refuses(wrong: dict) -> None:
    with pytest.raises(ValidationError):
        RunCreate.model_validate(wrong)
