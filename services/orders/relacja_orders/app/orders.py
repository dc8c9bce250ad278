"""Orders: place one (priced from the catalog), read them, move them through their states.

    require_orderable_customer(session, id, directory)   422 unless an active customer (read-through)
    price_lines(session, command, coupon)                 → stored lines, the coupon's discount; InvalidLines,
                                                            CouponRejected
    priced_lines(command, catalog_rows, coupon)           the same on catalog rows already read
    place_order(session, command, directory)             → OrderPublic (OrderPlacedV1); redeems its coupon
    get_order(session, id, for_update=)                  → the row; NotFound
    list_orders(session, OrderQuery, limit, cursor)      → a page, newest first
    transition(session, id, action, check_version, ...)  → OrderPublic (OrderPaid/Fulfilled/Delivered/CancelledV1);
                                                            IllegalTransition

Every change writes its event in the caller's transaction (``events.emit``; placing, the
hot path, writes the order and its event in one statement, the payload built by PostgreSQL
as for imported orders). The customer check runs first: the projection (read with the
order's products in one statement), and on a miss the customers service once
(``relacja_servicekit.customer_directory``), so a customer created a moment ago can order
and an unknown, erased or merged one is refused. A cancellation of a paid order refunds
its total; an unpaid one refunds nothing (``domain.pricing.order_amounts``).

A coupon (``coupon_code``) is checked against the projection (``app.coupons``), priced
into the lines (``domain.coupons``) and redeemed last, after the order and its event are
written, so its row lock is held for as short a time as the transaction allows (a refusal
rolls them back); a cancellation gives the use back in the cancelling transaction.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events.orders import (
    OrderCancelledV1,
    OrderDeliveredV1,
    OrderFulfilledV1,
    OrderPaidV1,
    OrderStatus,
)
from relacja_messaging.driver import asyncpg_connection
from relacja_messaging.tracing import current_traceparent
from relacja_servicekit.customer_directory import CustomerDirectory, require_customer, require_usable_state
from relacja_servicekit.pagination import Page, paginate

from ..domain.coupons import Coupon, check_usable, coupon_shares
from ..domain.money import ZERO
from ..domain.pricing import CatalogItem, LineRequest, order_amounts, price_line
from ..domain.states import Action, next_status
from ..tables import known_customers, orders, products
from .coupons import find_coupon, redeem, release
from .errors import InvalidLines, NotFound
from .events import AMOUNT_FIELDS, emit, line_json, placed_events_insert
from .schemas import OrderCreate, OrderPublic, order_public

__all__ = [
    "OrderQuery",
    "require_orderable_customer",
    "price_lines",
    "priced_lines",
    "place_order",
    "get_order",
    "list_orders",
    "transition",
]

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
    return priced_lines(command, [row._mapping for row in rows], coupon)


def priced_lines(
    command: OrderCreate, rows: Sequence[Any], coupon: Coupon | None = None
) -> tuple[list[dict[str, Any]], Decimal | None]:
    """``price_lines`` on catalog rows already read (mappings of ``id``, ``sku``, ``category``,
    ``list_price``, ``unit_cost``, ``tax_rate``, ``currency``, ``active``)."""
    by_id, by_sku = {r["id"]: r for r in rows}, {r["sku"]: r for r in rows}
    catalog: list[tuple[CatalogItem, LineRequest]] = []
    errors = []
    for index, line in enumerate(command.lines):
        if line.product_id is not None:
            field, product = f"body.lines.{index}.product_id", by_id.get(line.product_id)
        else:
            field, product = f"body.lines.{index}.sku", by_sku.get(line.sku)
        if product is None:
            errors.append({"field": field, "message": "no such product"})
        elif not product["active"]:
            errors.append({"field": field, "message": f"product {product['sku']} is not active"})
        elif product["currency"] != command.currency:
            errors.append(
                {
                    "field": field,
                    "message": f"product {product['sku']} is priced in {product['currency']}, not {command.currency}",
                }
            )
        else:
            item = CatalogItem(
                product["id"],
                product["sku"],
                product["category"],
                product["list_price"],
                product["unit_cost"],
                product["tax_rate"],
                product["currency"],
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


# The placement's two statements, built once (asyncpg prepares each once per connection and
# reuses it). 1: the customer's projection row and the order's products in one round trip
# (the one-row FROM keeps the customer's columns when no product matches).
_CHECK_SQL = (
    "SELECT c.state AS customer_state, c.merged_into, "
    "p.id, p.sku, p.category, p.list_price, p.unit_cost, p.tax_rate, p.currency, p.active "
    "FROM (SELECT 1) AS one "
    "LEFT JOIN known_customers AS c ON c.customer_id = $1 "
    "LEFT JOIN products AS p ON p.id = ANY($2::uuid[]) OR p.sku = ANY($3::text[])"
)
# 2: the order and its OrderPlacedV1 outbox row in one statement, the event's payload built
# by PostgreSQL from the inserted row exactly as the import's (``events.placed_events_insert``);
# $1 = occurred_at, $2 = traceparent, then the order's columns.
_PLACE_COLUMNS = (
    "id",
    "customer_id",
    "status",
    "channel",
    "currency",
    "placed_at",
    "lines",
    "imported",
    "note",
    "shipping_address",
    "created_at",
    "updated_at",
    "coupon_id",
    "coupon_code",
    "discount_amount",
    *AMOUNT_FIELDS,
)
_JSONB_COLUMNS = frozenset({"lines", "shipping_address"})
_PLACE_SQL = (
    f"WITH o AS (INSERT INTO orders ({', '.join(_PLACE_COLUMNS)}) "
    f"VALUES ({', '.join(f'${n}' for n in range(3, 3 + len(_PLACE_COLUMNS)))}) RETURNING *), "
    f"e AS ({placed_events_insert('o')}) "
    "SELECT * FROM o"
)


async def place_order(session: AsyncSession, command: OrderCreate, directory: CustomerDirectory) -> OrderPublic:
    """A new order, ``placed``, priced by the service (totals are never taken from the client).

    The hot path is two statements on the session's asyncpg connection, no SQLAlchemy
    statement execution: the customer check with the catalog read, then the order with
    its event (issue 18: each SQLAlchemy ``execute`` cost ~0.3 ms of CPU, each round trip
    a wake-up of both processes). A customer not projected yet takes the read-through."""
    connection = await asyncpg_connection(session)
    ids = [line.product_id for line in command.lines if line.product_id is not None]
    skus = [line.sku for line in command.lines if line.sku is not None]
    rows = await connection.fetch(_CHECK_SQL, command.customer_id, ids, skus)
    head = rows[0]
    if head["customer_state"] is None:  # a miss: ask the customers service once (read-through)
        await require_orderable_customer(session, command.customer_id, directory)
    else:
        require_usable_state(command.customer_id, head["customer_state"], head["merged_into"], service="orders")
    now = datetime.now(UTC)  # the service's clock: saves a round trip per request
    coupon = None
    if command.coupon_code is not None:
        coupon = await find_coupon(session, command.coupon_code)
        check_usable(coupon, customer_id=command.customer_id, now=now)
    lines, discount = priced_lines(command, [row for row in rows if row["id"] is not None], coupon)
    amounts = order_amounts(lines, currency=command.currency, cancelled=False)
    values: dict[str, Any] = {
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
    # jsonb goes in as JSON text: SQLAlchemy's asyncpg codec (set on every pooled connection) expects it.
    arguments = [
        json.dumps(values[name]) if name in _JSONB_COLUMNS and values[name] is not None else values[name]
        for name in _PLACE_COLUMNS
    ]
    row = await connection.fetchrow(_PLACE_SQL, now, current_traceparent.get(), *arguments)
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
