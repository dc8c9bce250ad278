"""The historical import format, read incrementally, and what one row becomes.

Rows (CSV with a header row, or NDJSON objects), named as the order API names them:

    customer_external_id  required  the customer's id in the old system (CustomerRegisteredV1.external_id)
    placed_at             required  RFC 3339; a time without offset is taken as UTC
    total_amount          required  what the customer paid, tax included (decimal)
    currency              required  ISO 4217
    external_id           optional  the order's id in the old system: the upsert key
    channel               optional  web | store | phone | partner (default web)
    status                optional  placed | paid | fulfilled | delivered | cancelled (default delivered)
    lines                 optional  JSON array of {sku, quantity, unit_price, unit_cost?, category?, discount_amount?}
                                    (in CSV: the cell holds the JSON)

Deprecated aliases, still accepted (:data:`DEPRECATED_ALIASES`): ``ordered_at`` for
``placed_at`` and ``total`` for ``total_amount``; a row or header giving both names of
one field is an error. A value that fails validation is reported under the name the row
gave it; the pricing rules below report the API's names.

Without lines the order has gross = total_amount, no tax and no cost (the contract's rule for
imports). With lines, gross = Σ (quantity × unit_price − discount_amount) and the rest of
total_amount is tax (a total below the lines' sum is an error); that tax is spread over the
lines in proportion to their amounts (the last line takes the rounding remainder), so a
later return refunds a fair share of it.

Numbering in errors: a CSV record's number as a spreadsheet shows it (header = row 1);
an NDJSON line's number.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from relacja_contracts.events.orders import OrderStatus, SalesChannel
from relacja_contracts.money import CurrencyCode
from relacja_servicekit.import_records import ImportFormatError, RecordReader, row_errors

from .money import ZERO, has_valid_scale, round_money
from .pricing import order_amounts

__all__ = [
    "ImportFormatError",
    "RecordReader",
    "ImportRow",
    "csv_header_errors",
    "parse_row",
    "build_order",
    "COLUMNS",
    "DEPRECATED_ALIASES",
]

COLUMNS = frozenset(
    {"customer_external_id", "placed_at", "total_amount", "currency", "external_id", "channel", "status", "lines"}
)
REQUIRED = ("customer_external_id", "placed_at", "total_amount", "currency")
#: The import's first column names, before it took the API's: old name → API name.
DEPRECATED_ALIASES = {"ordered_at": "placed_at", "total": "total_amount"}


def csv_header_errors(header: list[str]) -> list[dict[str, str]]:
    known = COLUMNS | DEPRECATED_ALIASES.keys()
    errors = [{"field": f"header.{name}", "message": "unknown column"} for name in header if name not in known]
    errors += [
        {"field": f"header.{name}", "message": "repeated column"}
        for name in sorted({n for n in header if header.count(n) > 1})
    ]
    errors += [
        {"field": f"header.{old}", "message": f"deprecated name of {new}, which the header also has: give one"}
        for old, new in DEPRECATED_ALIASES.items()
        if old in header and new in header
    ]
    given = {DEPRECATED_ALIASES.get(name, name) for name in header}
    errors += [
        {"field": f"header.{name}", "message": "required column missing"} for name in REQUIRED if name not in given
    ]
    return errors


class ImportLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=1_000_000)
    unit_price: Decimal = Field(ge=0, allow_inf_nan=False)
    unit_cost: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    category: str | None = Field(default=None, max_length=100)
    discount_amount: Decimal = Field(default=ZERO, ge=0, allow_inf_nan=False)


class ImportRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_external_id: str = Field(min_length=1, max_length=200)
    placed_at: datetime = Field(validation_alias=AliasChoices("placed_at", "ordered_at"))
    total_amount: Decimal = Field(
        ge=0, le=Decimal("99999999999999"), allow_inf_nan=False, validation_alias=AliasChoices("total_amount", "total")
    )
    currency: CurrencyCode
    external_id: str | None = Field(default=None, min_length=1, max_length=200)
    channel: SalesChannel = "web"
    status: OrderStatus = "delivered"
    lines: list[ImportLine] = Field(default_factory=list, max_length=1000)

    @field_validator("placed_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def parse_row(header: list[str] | None, record: Any) -> tuple[ImportRow | None, list[dict[str, str]]]:
    """A CSV record (``header`` given) or an NDJSON line as an ``ImportRow``, or its errors.
    Empty CSV cells are absent values."""
    try:
        if header is None:
            return ImportRow.model_validate_json(record), []
        if len(record) != len(header):
            return None, [{"field": "row", "message": f"has {len(record)} cells; the header has {len(header)}"}]
        data: dict[str, Any] = {name: cell for name, cell in zip(header, record, strict=True) if cell != ""}
        if "lines" in data:
            try:
                data["lines"] = json.loads(data["lines"])
            except ValueError:
                return None, [{"field": "lines", "message": "is not valid JSON"}]
        return ImportRow.model_validate(data), []
    except ValidationError as err:
        return None, row_errors(err)


def build_order(row: ImportRow, catalog: Mapping[str, tuple[Any, str | None]]) -> dict[str, Any] | list[dict[str, str]]:
    """The order fields of an imported row (amounts as ``Decimal``, lines in stored JSON
    form), or its errors. ``catalog`` maps SKUs to (product id, category)."""
    currency = row.currency
    errors = (
        []
        if has_valid_scale(row.total_amount, currency)
        else [{"field": "total_amount", "message": f"has more decimal places than {currency} allows"}]
    )
    lines: list[dict[str, Any]] = []
    for number, line in enumerate(row.lines, start=1):
        amount = line.quantity * line.unit_price - line.discount_amount
        if amount < 0:
            errors.append({"field": f"lines.{number - 1}.discount_amount", "message": "is more than the line's value"})
        product_id, category = catalog.get(line.sku, (None, None))
        lines.append(
            {
                "line_no": number,
                "product_id": None if product_id is None else str(product_id),
                "sku": line.sku,
                "category": line.category or category,
                "quantity": line.quantity,
                "unit_price": format(round_money(line.unit_price, currency), "f"),
                "unit_cost": None if line.unit_cost is None else format(round_money(line.unit_cost, currency), "f"),
                "discount_percent": "0",
                "discount_amount": format(round_money(line.discount_amount, currency), "f"),
                "line_amount": round_money(amount, currency),
                "tax_rate": "0",
                "tax_amount": ZERO,
                "returned_quantity": 0,
            }
        )
    if errors:
        return errors
    if lines:
        gross = sum((stored["line_amount"] for stored in lines), ZERO)
        tax = row.total_amount - gross
        if tax < 0:
            return [{"field": "total_amount", "message": f"is less than the sum of the lines ({gross})"}]
        left = tax
        for stored in lines[:-1]:
            stored["tax_amount"] = round_money(tax * stored["line_amount"] / gross, currency) if gross else ZERO
            left -= stored["tax_amount"]
        lines[-1]["tax_amount"] = left
        for stored in lines:
            stored["line_amount"], stored["tax_amount"] = (
                format(stored["line_amount"], "f"),
                format(stored["tax_amount"], "f"),
            )
        amounts = order_amounts(lines, currency=currency, cancelled=row.status == "cancelled").as_dict()
    else:
        total = round_money(row.total_amount, currency)
        amounts = {
            "gross_amount": total,
            "tax_amount": round_money(ZERO, currency),
            "total_amount": total,
            "returned_amount": round_money(ZERO, currency),
            "refunded_amount": round_money(ZERO, currency),
            "net_amount": round_money(ZERO, currency) if row.status == "cancelled" else total,
            "cost_amount": None,
            "margin": None,
        }
    return {
        "external_id": row.external_id,
        "status": row.status,
        "channel": row.channel,
        "currency": currency,
        "placed_at": row.placed_at,
        "lines": lines,
        **amounts,
    }
