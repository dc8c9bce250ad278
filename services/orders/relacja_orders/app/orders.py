"""Orders: place one (priced from the catalog), read them, move them through their states.

    require_orderable_customer(session, id, directory)   422 unless an active customer (read-through)
    price_lines(session, command, coupon)                 → stored lines, the coupon's discount; InvalidLines,
                                                            CouponRejected
    place_order(session, command, directory)             → OrderPublic (OrderPlacedV1); redeems its coupon
    get_order(session, id, for_update=)                  → the row; NotFound
    list_orders(session, OrderQuery, limit, cursor)      → a page, newest first
    transition(session, id, action, check_version, ...)  → OrderPublic (OrderPaid/Fulfilled/Delivered/CancelledV1);
                                                            IllegalTransition

Every change writes its event in the caller's transaction (``events.emit``). The customer
check runs first: the projection, and on a miss the customers service once
(``relacja_servicekit.customer_directory``), so a customer created a moment ago can order
and an unknown, erased or merged one is refused. A cancellation of a paid order refunds
its total; an unpaid one refunds nothing (``domain.pricing.order_amounts``).

A coupon (``coupon_code``) is checked against the projection (``app.coupons``), priced
into the lines (``domain.coupons``) and redeemed last, after the order and its event are
written, so its row lock is held for as short a time as the transaction allows (a refusal
rolls them back); a cancellation gives the use back in the cancelling transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events.orders import (
    OrderCancelledV1,
    OrderDeliveredV1,
    OrderFulfilledV1,
    OrderPaidV1,
    OrderPlacedV1,
    OrderStatus,
)
from relacja_servicekit.customer_directory import CustomerDirectory, require_customer
from relacja_servicekit.pagination import Page, paginate

from ..domain.coupons import Coupon, check_usable, coupon_shares
from ..domain.money import ZERO
from ..domain.pricing import CatalogItem, LineRequest, order_amounts, price_line
from ..domain.states import Action, next_status
from ..tables import known_customers, orders, products
from .coupons import find_coupon, redeem, release
from .errors import InvalidLines, NotFound
from .events import emit, line_json
from .schemas import OrderCreate, OrderPublic, order_public

__all__ = [
    "OrderQuery",
    "require_orderable_customer",
    "price_lines",
    "place_order",
    "get_order",
    "list_orders",
    "transition",
]

# Built once: a statement made per request (.values(**...)) costs ~1 ms of SQLAlchemy coercion.
_INSERT_ORDER = insert(orders).returning(*orders.c)

_EVENTS = {"pay": OrderPaidV1, "fulfill": OrderFulfilledV1, "deliver": OrderDeliveredV1, "cancel": OrderCancelledV1}


async def require_orderable_customer(
    session: AsyncSession, customer_id: uuid.UUID, directory: CustomerDirectory
) -> None:
    """422 unless ``customer_id`` is an active customer: the projection first, the customers
    service once on a miss (read-through, so a customer created a moment ago can order)."""
    await require_customer(session, known_customers, directory, customer_id, service="orders")


async def price_lines(
    session: AsyncSession, command: OrderCreate, coupon: Coupon | None = None
) -> tuple[list[dict[str, Any]], Decimal | None]:
    """The order's lines priced from the catalog now (one query for all its products), with
    ``coupon``'s discount split over them; and that discount (``None`` without a coupon)."""
    ids = {line.product_id for line in command.lines if line.product_id is not None}
    skus = {line.sku for line in command.lines if line.sku is not None}
    rows = (await session.execute(select(products).where(or_(products.c.id.in_(ids), products.c.sku.in_(skus))))).all()
    by_id, by_sku = {r.id: r for r in rows}, {r.sku: r for r in rows}
    catalog: list[tuple[CatalogItem, LineRequest]] = []
    errors = []
    for index, line in enumerate(command.lines):
        if line.product_id is not None:
            field, product = f"body.lines.{index}.product_id", by_id.get(line.product_id)
        else:
            field, product = f"body.lines.{index}.sku", by_sku.get(line.sku)
        if product is None:
            errors.append({"field": field, "message": "no such product"})
        elif not product.active:
            errors.append({"field": field, "message": f"product {product.sku} is not active"})
        elif product.currency != command.currency:
            errors.append(
                {
                    "field": field,
                    "message": f"product {product.sku} is priced in {product.currency}, not {command.currency}",
                }
            )
        else:
            item = CatalogItem(
                product.id,
                product.sku,
                product.category,
                product.list_price,
                product.unit_cost,
                product.tax_rate,
                product.currency,
            )
            catalog.append((item, LineRequest(line.quantity, line.discount_percent)))
    if errors:
        raise InvalidLines(errors)
    priced = [price_line(n, item, request) for n, (item, request) in enumerate(catalog, start=1)]
    if coupon is None:
        return [line_json(line) for line in priced], None
    shares = coupon_shares(coupon, priced, currency=command.currency)
    repriced = [
        price_line(n, item, request, share) if share else line
        for n, ((item, request), share, line) in enumerate(zip(catalog, shares, priced, strict=True), start=1)
    ]
    return [line_json(line) for line in repriced], sum(shares, ZERO)


async def place_order(session: AsyncSession, command: OrderCreate, directory: CustomerDirectory) -> OrderPublic:
    """A new order, ``placed``, priced by the service (totals are never taken from the client)."""
    await require_orderable_customer(session, command.customer_id, directory)
    now = datetime.now(UTC)  # the service's clock: saves a round trip per request
    coupon = None
    if command.coupon_code is not None:
        coupon = await find_coupon(session, command.coupon_code)
        check_usable(coupon, customer_id=command.customer_id, now=now)
    lines, discount = await price_lines(session, command, coupon)
    amounts = order_amounts(lines, currency=command.currency, cancelled=False)
    values = {
        "id": uuid.uuid4(),
        "customer_id": command.customer_id,
        "status": "placed",
        "channel": command.channel,
        "currency": command.currency,
        "placed_at": now,
        "lines": lines,
        "imported": False,
        "note": command.note,
        "shipping_address": command.shipping_address.model_dump() if command.shipping_address else None,
        "created_at": now,
        "updated_at": now,
        "coupon_id": coupon.coupon_id if coupon else None,
        "coupon_code": coupon.code if coupon else None,
        "discount_amount": discount,
        **amounts.as_dict(),
    }
    row = (await session.execute(_INSERT_ORDER, values)).one()
    await emit(session, OrderPlacedV1, row._mapping, now)
    if coupon is not None:
        # Last: the use's row lock is held from here to the commit, so as briefly as possible.
        await redeem(session, coupon, now)
    return order_public(row)


async def get_order(session: AsyncSession, order_id: uuid.UUID, *, for_update: bool = False) -> Any:
    """The order row (locked when ``for_update``); ``NotFound`` when there is none."""
    query = select(orders).where(orders.c.id == order_id)
    row = (await session.execute(query.with_for_update() if for_update else query)).first()
    if row is None:
        raise NotFound("Order", order_id)
    return row


@dataclass(frozen=True)
class OrderQuery:
    customer_id: uuid.UUID | None = None
    status: OrderStatus | None = None
    placed_after: datetime | None = None  # inclusive
    placed_before: datetime | None = None  # exclusive


async def list_orders(session: AsyncSession, query: OrderQuery, *, limit: int, cursor: str | None) -> Page[OrderPublic]:
    conditions = []
    if query.customer_id is not None:
        conditions.append(orders.c.customer_id == query.customer_id)
    if query.status is not None:
        conditions.append(orders.c.status == query.status)
    if query.placed_after is not None:
        conditions.append(orders.c.placed_at >= query.placed_after)
    if query.placed_before is not None:
        conditions.append(orders.c.placed_at < query.placed_before)
    return await paginate(
        session,
        select(orders).where(and_(True, *conditions)),
        keys=[orders.c.placed_at, orders.c.id],
        limit=limit,
        cursor=cursor,
        descending=True,
        sort="-placed_at",
        to_item=order_public,
    )


async def transition(
    session: AsyncSession, order_id: uuid.UUID, action: Action, check_version: Callable[[int], None], **fields: Any
) -> OrderPublic:
    """Apply ``action`` to the order (locked), after ``check_version`` accepted its version.

    ``fields``: ``payment_reference`` (pay), ``cancel_reason`` (cancel). Cancelling gives the
    order's coupon use back."""
    before = await get_order(session, order_id, for_update=True)
    check_version(before.version)
    status = next_status(action, before.status)
    extra: dict[str, Any] = {}
    values: dict[str, Any] = {"status": status, **fields}
    if action == "cancel":
        refund = before.total_amount if before.status == "paid" else ZERO
        amounts = order_amounts(before.lines, currency=before.currency, cancelled=True, refunded_amount=refund)
        values |= amounts.as_dict()
        extra = {
            "cancelled_from": before.status,
            "refund_amount": amounts.refunded_amount,
            "reason": fields.get("cancel_reason"),
        }
    elif action == "pay":
        extra = {"payment_reference": fields.get("payment_reference")}
    now = datetime.now(UTC)  # the service's clock: saves a round trip per request
    if action == "cancel" and before.coupon_id is not None:
        await release(session, before.coupon_id, now)
    row = (
        await session.execute(
            update(orders)
            .where(orders.c.id == order_id)
            .values(**values, version=orders.c.version + 1, updated_at=now)
            .returning(*orders.c)
        )
    ).one()
    await emit(session, _EVENTS[action], row._mapping, now, **extra)
    return order_public(row)
