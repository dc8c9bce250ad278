"""Commands and results of the orders use cases: the request and response bodies.

    products   ProductCreate, ProductPatch → ProductPublic, ProductsPublic
    orders     OrderCreate (lines: LineCreate), PayRequest, CancelRequest
               → OrderPublic, OrdersPublic
    returns    ReturnCreate, DecisionRequest → ReturnPublic, ReturnsPublic
    summary    CustomerOrderSummary (CurrencyTotals, RecentOrder)

Every constraint a body has is a pydantic constraint, so the OpenAPI document states it:
lengths, ranges, patterns, strict integers and booleans (``relacja_servicekit.types``: no
``"5"`` for 5, no ``0`` for false), and "exactly one of product_id and sku" of a line
as a ``oneOf`` of the two ``required`` lists.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from relacja_contracts.events.orders import OrderStatus, SalesChannel
from relacja_contracts.money import Amount, CurrencyCode
from relacja_servicekit.models import RowModel
from relacja_servicekit.types import Integer, StrictBool

from ..domain.money import has_valid_scale, round_money
from .events import AMOUNT_FIELDS, snapshot

__all__ = [
    "ProductCreate",
    "ProductPatch",
    "ProductPublic",
    "ProductsPublic",
    "product_public",
    "Address",
    "LineCreate",
    "OrderCreate",
    "OrderLinePublic",
    "OrderPublic",
    "OrdersPublic",
    "PayRequest",
    "CancelRequest",
    "order_public",
    "ReturnCreate",
    "ReturnPublic",
    "ReturnsPublic",
    "DecisionRequest",
    "return_public",
    "return_version",
    "CurrencyTotals",
    "RecentOrder",
    "CustomerOrderSummary",
]


# Products


def _decimal_text(pattern: str, example: str) -> tuple[BeforeValidator, WithJsonSchema]:
    """A decimal given as text matching ``pattern`` (the schema states it; pydantic's own
    Decimal would also take numbers, exponents and blanks the schema does not allow)."""
    matches = re.compile(pattern).match

    def check(value: Any) -> Any:
        if isinstance(value, Decimal) or (isinstance(value, str) and matches(value)):
            return value
        raise ValueError(f"must be a decimal string such as {example!r}")

    return BeforeValidator(check), WithJsonSchema({"type": "string", "pattern": pattern, "examples": [example]})


# numeric(18, 4) columns: 14 integer digits, at most 4 decimals (and no more than the currency has).
Price = Annotated[Decimal, *_decimal_text(r"^[0-9]{1,14}(\.[0-9]{1,4})?$", "19.99")]
TaxRate = Annotated[Decimal, *_decimal_text(r"^(0(\.[0-9]{1,4})?|1(\.0{1,4})?)$", "0.23")]
DiscountPercent = Annotated[Decimal, *_decimal_text(r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$", "10")]


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=64, pattern=r"^\S+$")
    name: str = Field(min_length=1, max_length=300)
    category: str | None = Field(default=None, max_length=100)
    list_price: Price = Field(
        description="Price per unit, tax excluded (decimal string); no more decimals than the currency has"
    )
    unit_cost: Price | None = Field(default=None, description="Cost per unit (for margin)")
    tax_rate: TaxRate = Field(default=Decimal("0"), description="e.g. 0.23 for 23 % VAT")
    currency: CurrencyCode
    active: StrictBool = True

    @model_validator(mode="after")
    def _scales(self) -> ProductCreate:
        for name in ("list_price", "unit_cost"):
            value = getattr(self, name)
            if value is not None and not has_valid_scale(value, self.currency):
                raise ValueError(f"{name} has more decimal places than {self.currency} allows")
        return self


class ProductPatch(BaseModel):
    """A JSON merge patch of a product: only the fields sent change; SKU and currency never do.
    ``name``, ``list_price``, ``tax_rate`` and ``active`` cannot be removed (no null)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default=None, min_length=1, max_length=300)  # type: ignore[assignment]  # absent = unchanged, null refused
    category: str | None = Field(default=None, max_length=100)
    list_price: Price = None  # type: ignore[assignment]  # absent = unchanged, null refused
    unit_cost: Price | None = None
    tax_rate: TaxRate = Field(default=None, description="e.g. 0.23 for 23 % VAT")  # type: ignore[assignment]  # absent = unchanged, null refused
    active: StrictBool = None  # type: ignore[assignment]  # absent = unchanged, null refused


class ProductPublic(RowModel):
    id: uuid.UUID
    sku: str
    name: str
    category: str | None
    list_price: Amount
    unit_cost: Amount | None
    tax_rate: Amount
    currency: str
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class ProductsPublic(BaseModel):
    items: list[ProductPublic]
    next_cursor: str | None


def product_public(row: Any) -> ProductPublic:
    """Prices with the currency's digits ("19.99", not the column's "19.9900"), the tax rate without trailing zeros."""
    data = dict(row._mapping)
    for name in ("list_price", "unit_cost"):
        if data[name] is not None:
            data[name] = round_money(data[name], row.currency)
    data["tax_rate"] = data["tax_rate"].normalize()
    return ProductPublic.model_validate(data)


# Orders


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    postal_code: str | None = Field(default=None, max_length=20)
    city: str = Field(min_length=1, max_length=100)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")


class LineCreate(BaseModel):
    """A line naming its product by ``product_id`` or by ``sku``: exactly one of them (the
    schema's ``oneOf``; neither may be null)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [{"required": ["product_id"]}, {"required": ["sku"]}]},
    )

    # Absent is None; an explicit null is refused (the schema does not allow it).
    product_id: uuid.UUID = Field(default=None, description="The product (or give sku)")  # type: ignore[assignment]  # None only as "absent"
    sku: str = Field(default=None, min_length=1, max_length=64, description="The product's SKU (or give product_id)")  # type: ignore[assignment]  # None only as "absent"
    quantity: Integer = Field(ge=1, le=100_000)
    discount_percent: DiscountPercent = Field(default=Decimal("0"), description="0–100, at most two decimals")

    @model_validator(mode="after")
    def _one_reference(self) -> LineCreate:
        if (self.product_id is None) == (self.sku is None):
            raise ValueError("give exactly one of product_id and sku")
        return self


class OrderCreate(BaseModel):
    """Prices, discounts, tax and totals are computed from the catalog: totals are not accepted."""

    model_config = ConfigDict(extra="forbid")

    customer_id: uuid.UUID
    channel: SalesChannel
    currency: CurrencyCode
    lines: list[LineCreate] = Field(min_length=1, max_length=500)
    shipping_address: Address | None = None
    note: str | None = Field(default=None, max_length=2000)
    coupon_code: str = Field(
        default=None,  # type: ignore[assignment]  # absent = no coupon; an explicit null is refused
        min_length=1,
        max_length=64,
        pattern=r"^\S+$",
        description="A coupon issued by the loyalty service (case-insensitive); one per order",
    )


class OrderLinePublic(BaseModel):
    line_no: int
    product_id: uuid.UUID | None
    sku: str
    category: str | None
    quantity: int
    unit_price: Amount
    unit_cost: Amount | None
    discount_percent: Amount
    discount_amount: Amount = Field(description="The line's own discount plus its share of the coupon's")
    coupon_discount_amount: Amount = Field(description="The coupon's share of the line's discount")
    line_amount: Amount
    tax_rate: Amount
    tax_amount: Amount
    returned_quantity: int


class OrderPublic(BaseModel):
    id: uuid.UUID
    number: str
    external_id: str | None
    customer_id: uuid.UUID
    status: OrderStatus
    channel: SalesChannel
    currency: str
    placed_at: datetime
    gross_amount: Amount
    tax_amount: Amount
    total_amount: Amount
    returned_amount: Amount
    refunded_amount: Amount
    net_amount: Amount
    cost_amount: Amount | None
    margin: Amount | None
    lines: list[OrderLinePublic]
    imported: bool
    coupon_code: str | None = Field(description="The coupon the order redeemed; null: none")
    discount_amount: Amount | None = Field(
        description="The coupon's discount, tax excluded (already in the lines' discount_amount); null without a coupon"
    )
    payment_reference: str | None
    cancel_reason: str | None
    shipping_address: Address | None
    note: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class OrdersPublic(BaseModel):
    items: list[OrderPublic]
    next_cursor: str | None


_LINE_DEFAULTS = {
    "discount_percent": "0",
    "discount_amount": "0",
    "coupon_discount_amount": "0",
    "tax_rate": "0",
    "tax_amount": "0",
    "returned_quantity": 0,
    "product_id": None,
    "category": None,
    "unit_cost": None,
}


def order_public(row: Any) -> OrderPublic:
    data = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    rounded = snapshot(data)  # amounts rounded to the currency exactly as in events
    data.update({name: rounded[name] for name in (*AMOUNT_FIELDS, "discount_amount")})
    data["lines"] = [_LINE_DEFAULTS | line for line in data["lines"]]
    return OrderPublic.model_validate(data)


class PayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payment_reference: str | None = Field(default=None, max_length=200)


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=1000)


class ReturnLineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_no: Integer = Field(ge=1, le=500)
    quantity: Integer = Field(ge=1, le=100_000)


class ReturnCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["return", "complaint"] = Field(
        default="return", description="A return, or a complaint about the goods"
    )
    lines: list[ReturnLineCreate] = Field(min_length=1, max_length=500)
    reason: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _distinct_lines(self) -> ReturnCreate:
        numbers = [line.line_no for line in self.lines]
        if len(numbers) != len(set(numbers)):
            raise ValueError("each line_no may appear once")
        return self


class ReturnLinePublic(BaseModel):
    line_no: int
    sku: str
    quantity: int
    amount: Amount
    tax: Amount


class ReturnPublic(BaseModel):
    id: uuid.UUID
    order_id: uuid.UUID
    kind: Literal["return", "complaint"]
    status: Literal["requested", "accepted", "rejected"]
    lines: list[ReturnLinePublic]
    amount: Amount = Field(description="Value of the goods, tax excluded (as of acceptance once accepted)")
    refund_amount: Amount = Field(description="Money to pay back, tax included")
    reason: str | None
    decision_note: str | None
    created_at: datetime
    decided_at: datetime | None
    version: int = Field(
        description="The ETag's version: 1 while requested, 2 once decided (a request changes only then)"
    )


class ReturnsPublic(BaseModel):
    items: list[ReturnPublic]
    next_cursor: str | None = None


def return_version(status: str) -> int:
    """A return request's version: it changes once, when decided (no version column needed)."""
    return 1 if status == "requested" else 2


def return_public(row: Any, currency: str) -> ReturnPublic:
    data = dict(row._mapping)
    data["amount"], data["refund_amount"] = round_money(row.amount, currency), round_money(row.refund_amount, currency)
    data["version"] = return_version(row.status)
    return ReturnPublic.model_validate(data)


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=2000)


# Summary


class CurrencyTotals(BaseModel):
    currency: str
    order_count: int
    gross_amount: Amount
    net_amount: Amount
    refunded_amount: Amount


class RecentOrder(BaseModel):
    id: uuid.UUID
    number: str
    status: OrderStatus
    placed_at: datetime
    total_amount: Amount
    currency: str


class CustomerOrderSummary(BaseModel):
    customer_id: uuid.UUID
    order_count: int
    first_order_at: datetime | None
    last_order_at: datetime | None
    totals: list[CurrencyTotals]
    last_orders: list[RecentOrder]
