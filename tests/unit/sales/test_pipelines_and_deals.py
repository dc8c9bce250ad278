"""Pipeline stage rules, deal moves and field checks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from relacja_sales.domain import activities, deals
from relacja_sales.domain.deals import FieldError, LineItem
from relacja_sales.domain.pipelines import MoveError, StageError, StageSpec, check_move, check_stages

GOOD = [
    StageSpec("Qualify", 10),
    StageSpec("Propose", 50),
    StageSpec("Won", 100, is_won=True, is_closed=True),
    StageSpec("Lost", 0, is_closed=True),
]


def test_a_valid_pipeline_passes() -> None:
    check_stages(GOOD)


@pytest.mark.parametrize(
    ("stages", "field"),
    [
        (GOOD[2:], "body.stages"),  # no open stage
        ([*GOOD[:2], GOOD[3]], "body.stages"),  # no won stage
        ([*GOOD[:3]], "body.stages"),  # no lost stage
        ([*GOOD, StageSpec("Won again", 100, is_won=True, is_closed=True)], "body.stages"),
        ([GOOD[0], StageSpec("qualify", 20), *GOOD[2:]], "body.stages[1].name"),  # names unique, any case
        ([GOOD[0], StageSpec("Propose", 101), *GOOD[2:]], "body.stages[1].probability"),
        ([*GOOD[:2], StageSpec("Won", 90, is_won=True, is_closed=True), GOOD[3]], "body.stages[2].probability"),
        ([*GOOD[:2], StageSpec("Won", 100, is_won=True), GOOD[3]], "body.stages[2].is_closed"),
        ([*GOOD[:3], StageSpec("Lost", 5, is_closed=True)], "body.stages[3].probability"),
    ],
)
def test_invalid_stage_lists_name_the_field(stages: list[StageSpec], field: str) -> None:
    with pytest.raises(StageError) as caught:
        check_stages(stages)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"deal_status": "won"}, "illegal-transition"),
        ({"same_pipeline": False}, "stage-of-another-pipeline"),
        ({"target_active": False}, "stage-retired"),
        ({"target_closed": True}, "closed-stage"),
    ],
)
def test_moves_an_open_deal_may_not_make(kwargs: dict[str, object], reason: str) -> None:
    args = {"deal_status": "open", "target_closed": False, "target_active": True, "same_pipeline": True} | kwargs
    with pytest.raises(MoveError) as caught:
        check_move(**args)  # type: ignore[arg-type]
    assert caught.value.reason == reason


def test_an_open_deal_moves_to_an_open_stage_of_its_pipeline() -> None:
    check_move(deal_status="open", target_closed=False, target_active=True, same_pipeline=True)


def test_closed_deals_are_final() -> None:
    assert deals.allowed_actions("open") == ["move", "win", "lose"]
    assert deals.allowed_actions("won") == [] and deals.allowed_actions("lost") == []


def test_field_checks() -> None:
    deals.check_amount(Decimal("0"))
    with pytest.raises(FieldError) as caught:
        deals.check_amount(Decimal("-0.01"))
    assert caught.value.field == "body.amount"
    created = date(2026, 12, 5)
    deals.check_close_date(created, created)
    deals.check_close_date(None, created)
    with pytest.raises(FieldError) as caught:
        deals.check_close_date(created - timedelta(days=1), created)
    assert caught.value.field == "body.expected_close_date"


def test_line_items() -> None:
    items = [LineItem(3, Decimal("19.99"), Decimal("5.00")), LineItem(1, Decimal("100"), Decimal("0"))]
    deals.check_line_items(items)
    assert deals.line_items_total(items) == Decimal("154.97")
    with pytest.raises(FieldError) as caught:
        deals.check_line_items([items[0], LineItem(1, Decimal("10"), Decimal("10.01"))])
    assert caught.value.field == "body.line_items[1].discount_amount"
    with pytest.raises(FieldError) as caught:
        deals.check_line_items([LineItem(0, Decimal("10"), Decimal("0"))])
    assert caught.value.field == "body.line_items[0].quantity"


def test_reminders_and_due_times() -> None:
    due = datetime(2026, 12, 5, 12, tzinfo=UTC)
    activities.check_reminder(due - timedelta(hours=1), due, late_reminders_allowed=False)
    activities.check_reminder(due, due, late_reminders_allowed=False)
    activities.check_reminder(due + timedelta(minutes=5), due, late_reminders_allowed=True)
    activities.check_reminder(None, None, late_reminders_allowed=False)
    with pytest.raises(FieldError) as caught:
        activities.check_reminder(due + timedelta(seconds=1), due, late_reminders_allowed=False)
    assert caught.value.field == "body.remind_at"
    with pytest.raises(FieldError):
        activities.check_reminder(due, None, late_reminders_allowed=True)
    assert activities.allowed_actions("open") == ["complete", "cancel"]
    assert activities.allowed_actions("done") == []
    assert activities.is_logged_kind("call") and activities.is_logged_kind("meeting")
    assert not activities.is_logged_kind("to_do")
