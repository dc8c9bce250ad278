"""Earning rules, reversal targets, spendable and expiry dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from relacja_loyalty.domain.earning import (
    Earning,
    OrderLineAmount,
    RuleSet,
    add_months,
    earnings_for_order,
    expires_at,
    reversal_target,
    spendable_at,
)

RULES = RuleSet(
    points_per_unit=Decimal("1"),
    category_multipliers={"coffee": Decimal("2")},
    birthday_multiplier=Decimal("1.5"),
    order_bonus_threshold=Decimal("500"),
    order_bonus_points=100,
)


def lines(*pairs: tuple[str | None, str]) -> list[OrderLineAmount]:
    return [OrderLineAmount(category, Decimal(amount)) for category, amount in pairs]


def test_points_per_unit_with_category_multiplier_floored_once() -> None:
    got = earnings_for_order(RULES, lines(("coffee", "10.60"), ("tea", "20.70")), Decimal("31.30"))
    assert got == [Earning("purchase", 41)]  # 21.20 + 20.70 = 41.90


def test_an_order_level_discount_earns_nothing() -> None:
    got = earnings_for_order(RULES, lines((None, "100.00")), Decimal("80.00"))
    assert got == [Earning("purchase", 80)]


def test_tier_and_birthday_multipliers_and_the_order_bonus() -> None:
    got = earnings_for_order(
        RULES, lines((None, "600")), Decimal("600"), tier_multiplier=Decimal("2"), birthday_month=True
    )
    assert got == [Earning("purchase", 1800), Earning("order_bonus", 100)]


def test_an_order_without_lines_earns_on_its_net_amount_and_nothing_when_zero() -> None:
    assert earnings_for_order(RULES, [], Decimal("12.99")) == [Earning("purchase", 12)]
    assert earnings_for_order(RULES, lines((None, "5")), Decimal("0")) == []


def test_reversal_target_is_proportional_and_complete_on_cancellation_or_full_return() -> None:
    assert reversal_target(100, Decimal("200"), Decimal("50"), cancelled=False) == 25
    assert reversal_target(101, Decimal("200"), Decimal("100"), cancelled=False) == 51
    assert reversal_target(100, Decimal("200"), Decimal("200"), cancelled=False) == 100
    assert reversal_target(100, Decimal("200"), Decimal("0"), cancelled=True) == 100
    assert reversal_target(100, Decimal("200"), Decimal("0"), cancelled=False) == 0


def test_pending_period_and_expiry_policies() -> None:
    earned = datetime(2026, 1, 31, 12, tzinfo=UTC)
    assert spendable_at(RULES, earned) == earned + timedelta(days=14)
    assert expires_at(RULES, earned) == datetime(2028, 1, 31, 12, tzinfo=UTC)
    assert expires_at(RuleSet(Decimal(1), expiry_policy="end_of_year"), earned) == datetime(2027, 1, 1, tzinfo=UTC)
    assert expires_at(RuleSet(Decimal(1), expiry_policy="never"), earned) is None
    assert add_months(earned, 1) == datetime(2026, 2, 28, 12, tzinfo=UTC)
    assert add_months(datetime(2026, 11, 30, tzinfo=UTC), 3) == datetime(2027, 2, 28, tzinfo=UTC)
