"""Events produced by the orders service on ``relacja.orders``.

Every order event carries the **whole order as it stands after the event** — customer,
channel, currency, amounts and lines — so RFM, ABC, profitability, lifetime value and
cross-sell analysis need nothing but the event stream. A consumer keeps one row per
``order_id`` and overwrites it with each newer snapshot; replaying the topic converges to
the same rows. Events of one customer share a partition (key = customer id), so they
arrive in order.

Amounts (decimal strings, all in ``currency``; tax excluded unless named otherwise):

    gross_amount     value of the goods as ordered, after discounts
    tax_amount       tax charged on top of gross_amount
    total_amount     what the customer was charged: gross_amount + tax_amount
    returned_amount  value of goods returned so far (same basis as gross_amount)
    refunded_amount  money paid back so far, tax included (returns and paid cancellations)
    net_amount       revenue that stays: gross_amount − returned_amount; 0 for a cancelled order
    cost_amount      unit cost × quantity kept, summed; null when a line's cost is unknown
    margin           net_amount − cost_amount (profitability); null when cost_amount is

An order placed with a coupon names it (``coupon_code``) and what it took off
(``discount_amount``, tax excluded); the coupon's discount is already in the lines'
``discount_amount`` and so in every amount above. Both are null without a coupon.

Imported historical orders (``imported=true``) produce the same events; an import that
brings only a total has no lines, ``gross_amount = total_amount`` and no cost or margin.

The catalogue's changes travel on the same topic as ``ProductChangedV1``: the whole
product after a create or an edit (a snapshot, like the order events, so a consumer
keeps the row with the highest ``version``). A product belongs to no customer: its
subject and Kafka key are the product id, so one product's changes stay in order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ..base import EventPayload
from ..money import Amount, CurrencyCode
from ..topics import ORDERS

__all__ = [
    "OrderCancelledV1",
    "OrderDeliveredV1",
    "OrderFulfilledV1",
    "OrderLine",
    "OrderPaidV1",
    "OrderPlacedV1",
    "OrderReturnedV1",
    "OrderStatus",
    "ProductChangedV1",
    "ReturnedLine",
    "SalesChannel",
]

SalesChannel = Literal["web", "store", "phone", "partner"]
OrderStatus = Literal["placed", "paid", "fulfilled", "delivered", "cancelled"]


class OrderLine(BaseModel):
    """One line of an order, priced as it was when the order was placed."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    line_no: int = Field(ge=1, description="Position in the order, from 1")
    product_id: UUID | None = Field(default=None, description="Null for imported lines whose SKU is not in the catalog")
    sku: str
    category: str | None = None
    quantity: int = Field(ge=1)
    unit_price: Amount = Field(description="List price per unit at order time, tax excluded")
    unit_cost: Amount | None = Field(
        default=None, description="Cost per unit at order time (for margin); null if unknown"
    )
    discount_amount: Amount = Field(description="Discount on the whole line")
    line_amount: Amount = Field(description="quantity × unit_price − discount_amount, tax excluded")
    returned_quantity: int = Field(default=0, ge=0, description="Units returned so far")


class _OrderSnapshot(EventPayload):
    """The fields every order event carries: the order after the event."""

    customer_id: UUID
    order_id: UUID
    order_number: str = Field(description="Human-readable number, unique per company")
    external_id: str | None = Field(default=None, description="The id in the system the order came from (imports)")
    status: OrderStatus = Field(description="Status after the event")
    channel: SalesChannel
    placed_at: datetime = Field(description="When the order was placed (for imports: ordered_at)")
    currency: CurrencyCode
    gross_amount: Amount
    tax_amount: Amount
    total_amount: Amount
    returned_amount: Amount
    refunded_amount: Amount
    net_amount: Amount
    cost_amount: Amount | None
    margin: Amount | None
    lines: list[OrderLine] = Field(default_factory=list)
    imported: bool = Field(default=False, description="Brought in by a historical import, not placed live")
    coupon_code: str | None = Field(
        default=None, description="The coupon redeemed by the order (as the loyalty service issued it); null: none"
    )
    discount_amount: Amount | None = Field(
        default=None,
        description="The coupon's discount, tax excluded (already in the lines' discount_amount); null without a coupon",
    )
    occurred_at: datetime = Field(description="When the event's change happened")


class OrderPlacedV1(_OrderSnapshot):
    """An order was placed (or imported; an imported order may already be in a later status)."""

    event_type = "relacja.orders.order.placed.v1"
    topic = ORDERS


class OrderPaidV1(_OrderSnapshot):
    """Payment for the order was captured."""

    event_type = "relacja.orders.order.paid.v1"
    topic = ORDERS

    payment_reference: str | None = Field(default=None, description="The payment provider's reference")


class OrderFulfilledV1(_OrderSnapshot):
    """The order was picked, packed and handed over for delivery."""

    event_type = "relacja.orders.order.fulfilled.v1"
    topic = ORDERS


class OrderDeliveredV1(_OrderSnapshot):
    """The order reached the customer."""

    event_type = "relacja.orders.order.delivered.v1"
    topic = ORDERS


class OrderCancelledV1(_OrderSnapshot):
    """The order was cancelled; a cancellation after payment refunds the total."""

    event_type = "relacja.orders.order.cancelled.v1"
    topic = ORDERS

    cancelled_from: Literal["placed", "paid"]
    refund_amount: Amount = Field(description="Refunded by this cancellation, tax included; 0 when unpaid")
    reason: str | None = None


class ReturnedLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    line_no: int = Field(ge=1)
    sku: str
    quantity: int = Field(ge=1)
    amount: Amount = Field(description="Value of the returned units, tax excluded")


class OrderReturnedV1(_OrderSnapshot):
    """A return of some lines or units of a delivered order was accepted and refunded."""

    event_type = "relacja.orders.order.returned.v1"
    topic = ORDERS

    return_id: UUID
    returned_lines: list[ReturnedLine]
    refund_amount: Amount = Field(description="Refunded by this return, tax included")
    reason: str | None = None


class ProductChangedV1(EventPayload):
    """A catalogue product was created or changed: the whole product after the change."""

    event_type = "relacja.orders.product.changed.v1"
    topic = ORDERS

    product_id: UUID
    sku: str
    name: str
    category: str | None = None
    list_price: Amount = Field(description="Price per unit, tax excluded")
    unit_cost: Amount | None = Field(default=None, description="Cost per unit (for margin); null if unknown")
    currency: CurrencyCode
    active: bool = Field(description="False: no longer sold (recommenders leave it out)")
    version: int = Field(ge=1, description="The product's version after the change; a consumer keeps the highest")
    occurred_at: datetime

    def subject(self) -> str:
        # No customer: the product id keys the record, so one product's versions stay in order.
        return str(self.product_id)
