"""Pure rules of the orders service: rounding, pricing, amounts, the status machine and returns."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from relacja_contracts.events.orders import OrderPlacedV1
from relacja_orders.app.events import line_json, snapshot
from relacja_orders.domain.money import has_valid_scale, minor_units, round_money
from relacja_orders.domain.pricing import CatalogItem, LineRequest, order_amounts, price_line
from relacja_orders.domain.returns import ReturnError, check_quantities, return_value
from relacja_orders.domain.states import Action, IllegalTransition, next_status

D = Decimal


def item(price: str, cost: str | None = "4.00", tax: str = "0.23", currency: str = "PLN") -> CatalogItem:
    return CatalogItem(uuid.uuid4(), "SKU-1", "kitchen", D(price), None if cost is None else D(cost), D(tax), currency)


def test_rounding_is_half_up_to_the_currency_minor_unit() -> None:
    assert round_money(D("0.125"), "PLN") == D("0.13") and round_money(D("0.124"), "PLN") == D("0.12")
    assert round_money(D("2.5"), "JPY") == D("3") and minor_units("KWD") == 3
    assert str(round_money(D("7"), "EUR")) == "7.00"
    assert (
        has_valid_scale(D("9.99"), "PLN")
        and has_valid_scale(D("9.990"), "PLN")
        and not has_valid_scale(D("9.999"), "PLN")
    )
    assert not has_valid_scale(D("1.5"), "JPY")


def test_a_line_is_discounted_then_taxed_each_rounded() -> None:
    line = price_line(1, item("3.33", tax="0.08"), LineRequest(3, D("12.5")))
    # 9.99 − 1.24875→1.25 = 8.74; tax 0.6992 → 0.70
    assert line["discount_amount"] == D("1.25") and line["line_amount"] == D("8.74") and line["tax_amount"] == D("0.70")
    assert line["unit_price"] == D("3.33") and line["returned_quantity"] == 0


def test_order_amounts_through_returns_and_cancellation() -> None:
    lines = [
        line_json(price_line(1, item("10.00"), LineRequest(3))),
        line_json(price_line(2, item("5.00", cost="1.00", tax="0"), LineRequest(2))),
    ]
    placed = order_amounts(lines, currency="PLN", cancelled=False)
    assert (placed.gross_amount, placed.tax_amount, placed.total_amount) == (D("40.00"), D("6.90"), D("46.90"))
    assert (placed.net_amount, placed.cost_amount, placed.margin) == (D("40.00"), D("14.00"), D("26.00"))

    lines[0]["returned_quantity"] = 1
    after_return = order_amounts(
        lines, currency="PLN", cancelled=False, returned_amount=D("10.00"), refunded_amount=D("12.30")
    )
    assert (after_return.net_amount, after_return.cost_amount, after_return.margin) == (
        D("30.00"),
        D("10.00"),
        D("20.00"),
    )
    assert after_return.gross_amount == D("40.00") and after_return.refunded_amount == D("12.30")

    cancelled = order_amounts(lines, currency="PLN", cancelled=True, refunded_amount=D("46.90"))
    assert (cancelled.net_amount, cancelled.cost_amount, cancelled.margin, cancelled.refunded_amount) == (
        D("0.00"),
        D("0"),
        D("0.00"),
        D("46.90"),
    )

    unknown_cost = [line_json(price_line(1, item("10.00", cost=None), LineRequest(1)))]
    amounts = order_amounts(unknown_cost, currency="PLN", cancelled=False)
    assert amounts.cost_amount is None and amounts.margin is None


@pytest.mark.parametrize(
    ("action", "current", "target"),
    [
        ("pay", "placed", "paid"),
        ("fulfill", "paid", "fulfilled"),
        ("deliver", "fulfilled", "delivered"),
        ("cancel", "placed", "cancelled"),
        ("cancel", "paid", "cancelled"),
    ],
)
def test_allowed_transitions(action: Action, current: str, target: str) -> None:
    assert next_status(action, current) == target


@pytest.mark.parametrize(
    ("action", "current"),
    [
        ("pay", "paid"),
        ("deliver", "placed"),
        ("fulfill", "placed"),
        ("cancel", "fulfilled"),
        ("cancel", "delivered"),
        ("pay", "cancelled"),
        ("cancel", "cancelled"),
    ],
)
def test_illegal_transitions_name_the_current_status(action: Action, current: str) -> None:
    with pytest.raises(IllegalTransition) as raised:
        next_status(action, current)
    assert raised.value.current == current and f"is {current}" in str(raised.value)


def test_returns_never_exceed_what_is_left() -> None:
    lines = [{"line_no": 1, "sku": "A", "quantity": 3, "returned_quantity": 1}]
    check_quantities(lines, {1: 1}, {1: 1})
    with pytest.raises(ReturnError) as raised:
        check_quantities(lines, {1: 2}, {1: 1})
    assert "at most 1 left" in raised.value.errors[0]["message"]
    with pytest.raises(ReturnError):
        check_quantities(lines, {2: 1}, {})


def test_partial_return_values_add_up_to_the_line() -> None:
    line: dict[str, Any] = {
        "line_no": 1,
        "sku": "A",
        "quantity": 3,
        "line_amount": "10.00",
        "tax_amount": "2.30",
        "returned_quantity": 0,
    }
    parts = []
    for _ in range(3):
        parts.append(return_value(line, 1, "PLN"))
        line["returned_quantity"] += 1
    assert [v for v, _ in parts] == [D("3.33"), D("3.34"), D("3.33")]
    assert sum(v for v, _ in parts) == D("10.00") and sum(t for _, t in parts) == D("2.30")


@pytest.mark.parametrize(("coupon_code", "discount"), [(None, None), ("K7PX-9QRT", D("2.5"))])
def test_the_snapshot_is_a_valid_order_placed_payload(coupon_code: str | None, discount: Decimal | None) -> None:
    lines = [line_json(price_line(1, item("10.00"), LineRequest(2)))]
    order = {
        "id": uuid.uuid4(),
        "customer_id": uuid.uuid4(),
        "number": "O-000000001",
        "external_id": "ext-1",
        "status": "delivered",
        "channel": "store",
        "currency": "PLN",
        "placed_at": datetime(2020, 1, 2, tzinfo=UTC),
        "imported": True,
        "lines": lines,
        "coupon_code": coupon_code,
        "discount_amount": discount,
        **order_amounts(lines, currency="PLN", cancelled=False).as_dict(),
    }
    payload = snapshot(order) | {"occurred_at": "2026-01-01T00:00:00Z"}
    parsed = OrderPlacedV1.model_validate(payload)
    assert parsed.model_dump(mode="json") == payload  # nothing lost, nothing formatted differently
    assert parsed.imported and parsed.total_amount == D("24.60") and parsed.lines[0].unit_cost == D("4.00")
    assert payload["placed_at"] == "2020-01-02T00:00:00Z" and payload["gross_amount"] == "20.00"
    assert parsed.coupon_code == coupon_code
    assert payload["discount_amount"] == (None if discount is None else "2.50")  # the currency's digits
