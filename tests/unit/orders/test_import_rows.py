"""The orders import's row format (pure): the API's names, and the deprecated aliases."""

from __future__ import annotations

import json
from decimal import Decimal

from relacja_orders.domain.imports import build_order, csv_header_errors, parse_row

HEADER = ["customer_external_id", "placed_at", "total_amount", "currency"]
OLD_HEADER = ["customer_external_id", "ordered_at", "total", "currency"]


def test_the_header_takes_the_api_names_or_the_deprecated_ones_but_not_both() -> None:
    assert csv_header_errors(HEADER) == [] and csv_header_errors(OLD_HEADER) == []
    assert csv_header_errors(["customer_external_id", "placed_at", "ordered_at", "total_amount", "currency"]) == [
        {"field": "header.ordered_at", "message": "deprecated name of placed_at, which the header also has: give one"}
    ]
    assert [e["field"] for e in csv_header_errors(["customer_external_id", "currency", "shoe_size"])] == [
        "header.shoe_size",
        "header.placed_at",
        "header.total_amount",
    ]


def test_a_row_under_either_name_becomes_the_same_order() -> None:
    new, errors = parse_row(HEADER, ["crm-1", "2020-01-02T03:04:05", "12.50", "PLN"])
    old, old_errors = parse_row(
        None,
        json.dumps(
            {"customer_external_id": "crm-1", "ordered_at": "2020-01-02T03:04:05Z", "total": "12.50", "currency": "PLN"}
        ),
    )
    assert errors == old_errors == [] and new == old
    assert (
        new is not None
        and new.total_amount == Decimal("12.50")
        and new.placed_at.isoformat() == "2020-01-02T03:04:05+00:00"
    )
    order = build_order(new, {})
    assert isinstance(order, dict) and order["placed_at"] == new.placed_at and order["total_amount"] == Decimal("12.50")


def test_errors_name_the_field_as_the_row_gave_it() -> None:
    _, errors = parse_row(
        None, json.dumps({"customer_external_id": "c", "placed_at": "soon", "total_amount": "1", "currency": "PLN"})
    )
    assert [e["field"] for e in errors] == ["placed_at"]
    _, errors = parse_row(
        None, json.dumps({"customer_external_id": "c", "ordered_at": "soon", "total": "1", "currency": "PLN"})
    )
    assert [e["field"] for e in errors] == ["ordered_at"]
    _, errors = parse_row(
        None,
        json.dumps(
            {
                "customer_external_id": "c",
                "placed_at": "2020-01-01T00:00:00Z",
                "total_amount": "1",
                "total": "1",
                "currency": "PLN",
            }
        ),
    )
    assert [e["field"] for e in errors] == ["total"]
    row, _ = parse_row(HEADER, ["c", "2020-01-01T00:00:00Z", "1.001", "PLN"])
    assert row is not None and build_order(row, {}) == [
        {"field": "total_amount", "message": "has more decimal places than PLN allows"}
    ]
