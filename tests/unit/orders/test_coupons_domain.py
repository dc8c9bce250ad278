"""Coupons at checkout, pure rules: when a coupon may be used, what it takes off each line,
and that the lines it discounts are taxed on the discounted amount."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relacja_orders.domain.coupons import Coupon, CouponRejected, check_usable, coupon_shares, split
from relacja_orders.domain.pricing import CatalogItem, LineRequest, order_amounts, price_line

D = Decimal
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
MUG, PLATE = uuid.uuid4(), uuid.uuid4()


def coupon(**fields: Any) -> Coupon:
    base = Coupon(
        coupon_id=uuid.uuid4(),
        code="K7PX-9QRT",
        discount_kind="percentage",
        discount_value=D("10"),
        currency=None,
        applies_to="order",
        product_id=None,
        category=None,
        minimum_order_value=None,
        valid_from=None,
        valid_until=None,
        max_uses=1,
        uses=0,
        customer_id=None,
        combinable=True,
        revoked=False,
    )
    return dataclasses.replace(base, **fields)


def lines(*specs: tuple[uuid.UUID, str, str, int, str], discount: str = "0") -> list[dict[str, Any]]:
    """Lines priced without a coupon: (product, category, unit price, quantity, tax rate)."""
    return [
        price_line(n, CatalogItem(pid, f"SKU-{n}", cat, D(price), None, D(tax), "PLN"), LineRequest(qty, D(discount)))
        for n, (pid, cat, price, qty, tax) in enumerate(specs, start=1)
    ]


BASKET = lines((MUG, "kitchen", "10.00", 3, "0.23"), (PLATE, "dining", "5.00", 2, "0.08"))  # 30.00 + 10.00


def reason(call: Any) -> str:
    with pytest.raises(CouponRejected) as raised:
        call()
    return raised.value.reason


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"revoked": True}, "revoked"),
        ({"customer_id": uuid.uuid4()}, "other_customer"),
        ({"valid_from": NOW + timedelta(seconds=1)}, "not_yet_valid"),
        ({"valid_until": NOW}, "expired"),  # valid_until is exclusive
        ({"uses": 1, "max_uses": 1}, "used_up"),
        ({"uses": 4, "max_uses": 5}, None),
        ({"valid_from": NOW, "valid_until": NOW + timedelta(seconds=1)}, None),  # valid_from is inclusive
    ],
)
def test_a_coupon_usable_now_by_this_customer(fields: dict, expected: str | None) -> None:
    customer = uuid.uuid4()
    if expected is None:
        check_usable(coupon(**fields), customer_id=customer, now=NOW)
    else:
        assert reason(lambda: check_usable(coupon(**fields), customer_id=customer, now=NOW)) == expected


def test_a_personal_coupon_is_usable_by_its_customer() -> None:
    customer = uuid.uuid4()
    check_usable(coupon(customer_id=customer), customer_id=customer, now=NOW)


def test_a_percentage_on_the_order_is_split_over_the_lines_by_value() -> None:
    assert coupon_shares(coupon(discount_value=D("10")), BASKET, currency="PLN") == [D("3.00"), D("1.00")]


def test_a_percentage_on_a_category_or_a_product_takes_only_those_lines() -> None:
    on_dining = coupon(applies_to="category", category="dining", discount_value=D("25"))
    assert coupon_shares(on_dining, BASKET, currency="PLN") == [D("0.00"), D("2.50")]
    on_mug = coupon(applies_to="product", product_id=MUG, discount_value=D("12.5"))
    assert coupon_shares(on_mug, BASKET, currency="PLN") == [D("3.75"), D("0.00")]


def test_a_fixed_amount_is_taken_once_and_never_more_than_the_lines_are_worth() -> None:
    fixed = coupon(discount_kind="fixed_amount", discount_value=D("7"), currency="PLN")
    shares = coupon_shares(fixed, BASKET, currency="PLN")
    assert shares == [D("5.25"), D("1.75")] and sum(shares) == D("7.00")
    too_big = coupon(
        discount_kind="fixed_amount", discount_value=D("100"), currency="PLN", applies_to="category", category="dining"
    )
    assert coupon_shares(too_big, BASKET, currency="PLN") == [D("0.00"), D("10.00")]


def test_a_free_product_takes_one_unit_of_it_after_the_lines_own_discount() -> None:
    free_mug = coupon(discount_kind="free_product", discount_value=D("0"), applies_to="product", product_id=MUG)
    assert coupon_shares(free_mug, BASKET, currency="PLN") == [D("10.00"), D("0.00")]
    discounted = lines((MUG, "kitchen", "10.00", 3, "0.23"), discount="10")  # 27.00 for 3
    assert coupon_shares(free_mug, discounted, currency="PLN") == [D("9.00")]
    free_bowl = coupon(discount_kind="free_product", applies_to="product", product_id=uuid.uuid4())
    assert reason(lambda: coupon_shares(free_bowl, BASKET, currency="PLN")) == "not_applicable"


def test_the_minimum_is_the_order_before_the_coupon_tax_excluded() -> None:
    assert coupon_shares(coupon(minimum_order_value=D("40.00")), BASKET, currency="PLN")[0] == D("3.00")
    below = coupon(minimum_order_value=D("40.01"))
    assert reason(lambda: coupon_shares(below, BASKET, currency="PLN")) == "below_minimum"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"discount_kind": "fixed_amount", "discount_value": D("5"), "currency": "EUR"}, "not_applicable"),
        ({"applies_to": "category", "category": "garden"}, "not_applicable"),
        ({"applies_to": "product", "product_id": uuid.uuid4()}, "not_applicable"),
    ],
)
def test_a_coupon_for_nothing_in_the_order_is_refused(fields: dict, expected: str) -> None:
    assert reason(lambda: coupon_shares(coupon(**fields), BASKET, currency="PLN")) == expected


def test_combinability_with_the_lines_own_discounts() -> None:
    discounted = lines((MUG, "kitchen", "10.00", 3, "0.23"), discount="10")  # 27.00
    assert reason(lambda: coupon_shares(coupon(combinable=False), discounted, currency="PLN")) == "not_combinable"
    # A combinable coupon applies on top, to what the line costs after its own discount.
    assert coupon_shares(coupon(combinable=True), discounted, currency="PLN") == [D("2.70")]
    assert coupon_shares(coupon(combinable=False), BASKET, currency="PLN") == [D("3.00"), D("1.00")]


def test_the_coupon_lowers_the_taxed_amount_of_each_line() -> None:
    shares = coupon_shares(coupon(discount_value=D("10")), BASKET, currency="PLN")
    items = [
        CatalogItem(MUG, "SKU-1", "kitchen", D("10.00"), None, D("0.23"), "PLN"),
        CatalogItem(PLATE, "SKU-2", "dining", D("5.00"), None, D("0.08"), "PLN"),
    ]
    priced = [
        price_line(n, it, LineRequest(q), share)
        for n, (it, q, share) in enumerate(zip(items, (3, 2), shares, strict=True), start=1)
    ]
    assert [(p["discount_amount"], p["line_amount"], p["tax_amount"]) for p in priced] == [
        (D("3.00"), D("27.00"), D("6.21")),
        (D("1.00"), D("9.00"), D("0.72")),
    ]
    amounts = order_amounts(priced, currency="PLN", cancelled=False)
    assert (amounts.gross_amount, amounts.tax_amount, amounts.total_amount) == (D("36.00"), D("6.93"), D("42.93"))


def test_yen_shares_are_whole_yen() -> None:
    yen = [
        price_line(1, CatalogItem(MUG, "A", None, D("333"), None, D("0"), "JPY"), LineRequest(1)),
        price_line(2, CatalogItem(PLATE, "B", None, D("333"), None, D("0"), "JPY"), LineRequest(1)),
        price_line(3, CatalogItem(uuid.uuid4(), "C", None, D("334"), None, D("0"), "JPY"), LineRequest(1)),
    ]
    shares = coupon_shares(coupon(discount_value=D("10")), yen, currency="JPY")
    assert sum(shares) == D("100") and all(share == share.to_integral_value() for share in shares)


@given(
    st.lists(st.integers(min_value=0, max_value=10**8), min_size=1, max_size=30),
    st.integers(min_value=0, max_value=10**9),
)
def test_a_split_is_exact_and_no_share_exceeds_its_line(cents: list[int], amount_cents: int) -> None:
    weights = [D(c).scaleb(-2) for c in cents]
    amount = min(D(amount_cents).scaleb(-2), sum(weights, D(0)))
    shares = split(amount, weights, "PLN")
    assert sum(shares, D(0)) == (amount if sum(weights) > 0 else D(0))
    assert all(D(0) <= share <= weight for share, weight in zip(shares, weights, strict=True))
