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

Most rows are plain — strings and small numbers in their usual shape — and those are
recognised by :func:`plain_row` without pydantic (a few µs instead of ~30) and priced by
PostgreSQL (``app.import_pricing``). Every other row, and every row with an error, takes
``parse_row`` and ``build_order``: they define the rules, the fast path only recognises
rows on which it agrees with them (tests/unit/orders/test_import_rows.py checks that it
never accepts a row pydantic rejects or reads one differently).

Numbering in errors: a CSV record's number as a spreadsheet shows it (header = row 1);
an NDJSON line's number.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, get_args

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
    "PlainRow",
    "plain_row",
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


# -- the fast path: plain rows ------------------------------------------------------------------

_LINE_KEYS = frozenset({"sku", "quantity", "unit_price", "unit_cost", "category", "discount_amount"})
_CHANNELS = frozenset(get_args(SalesChannel))
_STATUSES = frozenset(get_args(OrderStatus))
# Bounded so that every product and sum build_order computes stays within Decimal's 28
# digits (then its arithmetic is exact, like PostgreSQL's numeric): amounts ≤ 12 integer and
# 6 decimal digits, a total < 10^13 (always within ImportRow's bound) with ≤ 4 decimals.
_AMOUNT = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,6})?").fullmatch
_TOTAL = re.compile(r"[0-9]{1,13}(?:\.[0-9]{1,4})?").fullmatch
_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})?"
).fullmatch
_CURRENCY = re.compile(r"[A-Z]{3}").fullmatch


@dataclass(frozen=True, slots=True)
class PlainRow:
    """A row :func:`plain_row` recognised: its JSON text (priced by PostgreSQL) and its keys."""

    doc: str
    external_id: str | None
    customer_external_id: str


def _text(value: Any, longest: int) -> bool:
    return type(value) is str and 1 <= len(value) <= longest


def _one_of(value: Any, choices: frozenset[str]) -> bool:
    return type(value) is str and value in choices


def _amount(value: Any) -> bool:
    return (type(value) is str and _AMOUNT(value) is not None) or (type(value) is int and 0 <= value < 10**12)


def _plain_line(line: Any) -> bool:
    if type(line) is not dict or not line.keys() <= _LINE_KEYS:
        return False
    quantity = line.get("quantity")
    category = line.get("category")
    cost = line.get("unit_cost")
    return (
        _text(line.get("sku"), 64)
        and type(quantity) is int
        and 1 <= quantity <= 1_000_000
        and _amount(line.get("unit_price"))
        and (cost is None or _amount(cost))
        and (category is None or (type(category) is str and len(category) <= 100))
        and ("discount_amount" not in line or _amount(line["discount_amount"]))
    )


def _plain(data: Any) -> bool:
    """Whether ``data`` (a decoded row) is one on which ImportRow surely agrees: every value
    in its common shape; anything else (aliases, floats, odd times, long numbers) → False."""
    if type(data) is not dict or not data.keys() <= COLUMNS:
        return False
    placed_at, total, external_id, lines = (
        data.get("placed_at"),
        data.get("total_amount"),
        data.get("external_id"),
        data.get("lines", []),
    )
    if not (
        _text(data.get("customer_external_id"), 200)
        and type(placed_at) is str
        and _INSTANT(placed_at) is not None
        and ((type(total) is str and _TOTAL(total) is not None) or (type(total) is int and 0 <= total < 10**13))
        and type(data.get("currency")) is str
        and _CURRENCY(data["currency"]) is not None
        and (external_id is None or _text(external_id, 200))
        and _one_of(data.get("channel", "web"), _CHANNELS)
        and _one_of(data.get("status", "delivered"), _STATUSES)
        and type(lines) is list
        and len(lines) <= 1000
        and all(_plain_line(line) for line in lines)
    ):
        return False
    try:
        datetime.fromisoformat(placed_at)  # a real date and time (not 2021-02-30)
    except ValueError:
        return False
    return True


def plain_row(header: list[str] | None, record: Any) -> PlainRow | None:
    """A CSV record (``header`` given) or an NDJSON line as a :class:`PlainRow` when it is
    plain, else None (then ``parse_row`` reads it, and reports its errors)."""
    if header is None:
        # JSON escapes (\u...) may hide what PostgreSQL's jsonb refuses (NUL, lone surrogates).
        if not isinstance(record, str) or "\\u" in record:
            return None
        try:
            data = json.loads(record)
        except ValueError:
            return None
        doc = record
    else:
        if len(record) != len(header) or any("\x00" in cell for cell in record):
            return None
        data = {name: cell for name, cell in zip(header, record, strict=True) if cell != ""}
        if "lines" in data:
            if "\\u" in data["lines"]:
                return None
            try:
                data["lines"] = json.loads(data["lines"])
            except ValueError:
                return None
        doc = ""  # built below, once the row is known to be plain
    if not _plain(data):
        return None
    if header is not None:
        doc = json.dumps(data)
    return PlainRow(doc, data.get("external_id"), data["customer_external_id"])
