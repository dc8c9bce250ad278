"""The orders' request bodies refuse what their schema refuses, and the schema says so."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from pydantic import ValidationError

from relacja_orders.app.schemas import OrderCreate, ProductPatch, ReturnCreate, return_version


def _order(*lines: dict) -> dict:
    return {"customer_id": str(uuid.uuid4()), "channel": "web", "currency": "PLN", "lines": list(lines)}


def test_a_line_names_its_product_by_id_or_by_sku() -> None:
    product_id = uuid.uuid4()
    order = OrderCreate.model_validate(
        _order({"product_id": str(product_id), "quantity": 1}, {"sku": "MUG-1", "quantity": 2})
    )
    first, second = order.lines
    assert first.product_id == product_id and first.sku is None
    assert second.product_id is None and second.sku == "MUG-1"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"quantity": 1}, "give exactly one of product_id and sku"),
        ({"product_id": str(uuid.uuid4()), "sku": "MUG-1", "quantity": 1}, "give exactly one of product_id and sku"),
        ({"product_id": None, "sku": "MUG-1", "quantity": 1}, "UUID input should be"),
        ({"sku": "MUG-1", "quantity": "2"}, "must be a JSON number"),
        ({"sku": "MUG-1", "quantity": 0}, "greater than or equal to 1"),
    ],
)
def test_a_line_without_exactly_one_reference_or_with_a_bad_quantity_is_refused(line: dict, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        OrderCreate.model_validate(_order(line))
    assert message in str(raised.value)


def test_the_schema_says_exactly_one_reference_never_null() -> None:
    line = OrderCreate.model_json_schema()["$defs"]["LineCreate"]
    assert line["oneOf"] == [{"required": ["product_id"]}, {"required": ["sku"]}]
    assert line["properties"]["product_id"]["type"] == "string" and line["properties"]["sku"]["type"] == "string"
    assert line["additionalProperties"] is False


@pytest.mark.parametrize("field", ["name", "list_price", "tax_rate", "active"])
def test_a_product_patch_cannot_remove_a_required_field(field: str) -> None:
    with pytest.raises(ValidationError):
        ProductPatch.model_validate({field: None})
    assert "null" not in str(ProductPatch.model_json_schema()["properties"][field])


def test_a_product_patch_keeps_only_what_was_sent() -> None:
    assert ProductPatch.model_validate({"category": None, "list_price": "5.00"}).model_dump(exclude_unset=True) == {
        "category": None,
        "list_price": Decimal("5.00"),
    }


def test_strict_types_in_bodies() -> None:
    with pytest.raises(ValidationError):
        ProductPatch.model_validate({"active": 0})
    with pytest.raises(ValidationError):
        ReturnCreate.model_validate({"lines": [{"line_no": True, "quantity": 1}]})


def test_a_return_request_changes_version_once_when_decided() -> None:
    assert [return_version(s) for s in ("requested", "accepted", "rejected")] == [1, 2, 2]
