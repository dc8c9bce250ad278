"""An order row as the payload every order event carries (the whole order after the event).

Lines are stored as JSONB in the form :func:`line_json` writes (amounts as decimal
strings); the event's ``OrderLine`` takes the contract fields from them. ``snapshot`` is
plain dicts and strings, so the bulk import can build thousands of payloads without a
pydantic model per row; live events validate it through the payload model
(``events.emit``), and a unit test checks both agree.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .domain.money import round_money

__all__ = ["line_json", "snapshot", "EVENT_LINE_FIELDS", "AMOUNT_FIELDS", "rfc3339"]

AMOUNT_FIELDS = ("gross_amount", "tax_amount", "total_amount", "returned_amount", "refunded_amount", "net_amount", "cost_amount", "margin")
EVENT_LINE_FIELDS = ("line_no", "product_id", "sku", "category", "quantity", "unit_price", "unit_cost", "discount_amount", "line_amount", "returned_quantity")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def line_json(line: Mapping[str, Any]) -> dict[str, Any]:
    """A priced line in its stored (JSON) form."""
    return {key: _plain(value) for key, value in line.items()}


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _money(value: Any, currency: str) -> str | None:
    return None if value is None else format(round_money(Decimal(value), currency), "f")


def snapshot(order: Mapping[str, Any]) -> dict[str, Any]:
    """The ``_OrderSnapshot`` fields of an order row (without ``occurred_at``), JSON-ready."""
    currency = order["currency"]
    payload: dict[str, Any] = {
        "customer_id": str(order["customer_id"]),
        "order_id": str(order["id"]),
        "order_number": order["number"],
        "external_id": order["external_id"],
        "status": order["status"],
        "channel": order["channel"],
        "placed_at": rfc3339(order["placed_at"]),
        "currency": currency,
        **{name: _money(order[name], currency) for name in AMOUNT_FIELDS},
        "lines": [{name: line.get(name) for name in EVENT_LINE_FIELDS} for line in order["lines"]],
        "imported": order["imported"],
    }
    return payload
