"""What an order earns under a programme's rules, and when those points can be spent and expire.

    purchase     ⌊ Σ line_amount × category multiplier × (net / Σ line_amount)
                   × points_per_unit × tier multiplier × birthday multiplier ⌋
    order_bonus  a fixed bonus when the order's net amount reaches the threshold
    welcome      a fixed bonus at enrolment (``RuleSet.welcome_points``)

Amounts are tax excluded (the order events' ``line_amount`` and ``net_amount``). The net
factor spreads an order-level discount (a coupon) over the lines, so a discount earns no
points. An order without lines (an import with a total only) earns on its net amount.
Points are whole: the product is floored once, at the end, so no rounding accumulates.

Each rule's points are one lot, idempotent per (order, rule): a redelivered event finds
the lot and earns nothing again.

    spendable_at   the event's time + the programme's pending period (the return window)
    expires_at     after_months: earned + N months | end_of_year: 1 January next year 00:00 UTC
                   | never: None
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Literal

__all__ = [
    "EarnRule",
    "Earning",
    "ExpiryPolicy",
    "OrderLineAmount",
    "RuleSet",
    "add_months",
    "earnings_for_order",
    "expires_at",
    "reversal_target",
    "spendable_at",
]

EarnRule = Literal["purchase", "welcome", "order_bonus"]
ExpiryPolicy = Literal["after_months", "end_of_year", "never"]


@dataclass(frozen=True)
class RuleSet:
    """A programme's earning rules."""

    points_per_unit: Decimal
    category_multipliers: Mapping[str, Decimal] = field(default_factory=dict)
    welcome_points: int = 0
    birthday_multiplier: Decimal = Decimal(1)
    order_bonus_threshold: Decimal | None = None
    order_bonus_points: int = 0
    pending_period: timedelta = timedelta(days=14)
    expiry_policy: ExpiryPolicy = "after_months"
    expiry_months: int | None = 24


@dataclass(frozen=True)
class OrderLineAmount:
    category: str | None
    line_amount: Decimal


@dataclass(frozen=True)
class Earning:
    rule: EarnRule
    points: int


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def earnings_for_order(
    rules: RuleSet,
    lines: Sequence[OrderLineAmount],
    net_amount: Decimal,
    *,
    tier_multiplier: Decimal = Decimal(1),
    birthday_month: bool = False,
) -> list[Earning]:
    """The lots an order earns (rules with zero points are left out)."""
    if net_amount <= 0:
        return []
    lines_total = sum((line.line_amount for line in lines), Decimal(0))
    if lines_total > 0:
        factor = min(Decimal(1), net_amount / lines_total)
        weighted = sum(
            (line.line_amount * rules.category_multipliers.get(line.category or "", Decimal(1)) for line in lines),
            Decimal(0),
        )
        base = weighted * factor
    else:
        base = net_amount
    multiplier = tier_multiplier * (rules.birthday_multiplier if birthday_month else Decimal(1))
    earnings = [Earning("purchase", _floor(base * rules.points_per_unit * multiplier))]
    threshold = rules.order_bonus_threshold
    if threshold is not None and rules.order_bonus_points > 0 and net_amount >= threshold:
        earnings.append(Earning("order_bonus", rules.order_bonus_points))
    return [earning for earning in earnings if earning.points > 0]


def reversal_target(earned: int, gross_amount: Decimal, returned_amount: Decimal, *, cancelled: bool) -> int:
    """How many of an order's ``earned`` points should be reversed in total by now.

    Cancelled: all. Otherwise in proportion to the returned share of the goods, rounded
    half up so that a full return reverses everything. The use case reverses the
    difference to what was reversed before, so a redelivered or late snapshot reverses
    nothing twice."""
    if cancelled:
        return earned
    if gross_amount <= 0 or returned_amount <= 0:
        return 0
    share = min(Decimal(1), returned_amount / gross_amount)
    return min(earned, int((Decimal(earned) * share + Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR)))


def spendable_at(rules: RuleSet, earned_at: datetime) -> datetime:
    return earned_at + rules.pending_period


def add_months(moment: datetime, months: int) -> datetime:
    """The same day-of-month ``months`` later (the month's last day when it is shorter)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    next_month = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=moment.tzinfo)
    last_day = (next_month - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def expires_at(rules: RuleSet, earned_at: datetime) -> datetime | None:
    if rules.expiry_policy == "never":
        return None
    if rules.expiry_policy == "end_of_year":
        return datetime(earned_at.astimezone(UTC).year + 1, 1, 1, tzinfo=UTC)
    return add_months(earned_at, rules.expiry_months or 0)
