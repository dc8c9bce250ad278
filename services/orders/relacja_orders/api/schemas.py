"""Request and response bodies of the orders routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from relacja_contracts.events.orders import OrderStatus, SalesChannel
from relacja_contracts.money import Amount, CurrencyCode

from ..snapshot import AMOUNT_FIELDS, snapshot

__all__ = [
    "Address", "LineCreate", "OrderCreate", "OrderLinePublic", "OrderPublic", "OrdersPublic", "PayRequest",
    "CancelRequest", "order_public", "ReturnCreate", "ReturnPublic", "ReturnsPublic", "DecisionRequest",
]


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    postal_code: str | None = Field(default=None, max_length=20)
    city: str = Field(min_length=1, max_length=100)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")


class LineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID | None = Field(default=None, description="The product (or give sku)")
    sku: str | None = Field(default=None, min_length=1, max_length=64, description="The product's SKU (or give product_id)")
    quantity: int = Field(ge=1, le=100_000)
    discount_percent: Decimal = Field(default=Decimal("0"), ge=0, le=100, max_digits=5, decimal_places=2, allow_inf_nan=False)

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


class OrderLinePublic(BaseModel):
    line_no: int
    product_id: uuid.UUID | None
    sku: str
    category: str | None
    quantity: int
    unit_price: Amount
    unit_cost: Amount | None
    discount_percent: Amount
    discount_amount: Amount
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
    payment_reference: str | None
    cancel_reason: str | None
    shipping_address: dict[str, Any] | None
    note: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class OrdersPublic(BaseModel):
    items: list[OrderPublic]
    next_cursor: str | None


_LINE_DEFAULTS = {"discount_percent": "0", "discount_amount": "0", "tax_rate": "0", "tax_amount": "0", "returned_quantity": 0,
                  "product_id": None, "category": None, "unit_cost": None}


def order_public(row: Any) -> OrderPublic:
    data = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    rounded = snapshot(data)  # amounts rounded to the currency exactly as in events
    data.update({name: rounded[name] for name in AMOUNT_FIELDS})
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

    line_no: int = Field(ge=1)
    quantity: int = Field(ge=1)


class ReturnCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["return", "complaint"] = Field(default="return", description="A return, or a complaint about the goods")
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


class ReturnsPublic(BaseModel):
    items: list[ReturnPublic]
    next_cursor: str | None = None


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=2000)
