"""``/api/v1/orders``: placing orders, reading them and moving them through their states.

    POST /api/v1/orders                 place (Idempotency-Key): priced from the catalog
    GET  /api/v1/orders/{id}            one order with its ETag
    GET  /api/v1/orders                 ?customer_id=&status=&placed_after=&placed_before=, newest first
    POST /api/v1/orders/{id}/pay        placed → paid        (body: payment_reference)
    POST /api/v1/orders/{id}/fulfill    paid → fulfilled
    POST /api/v1/orders/{id}/deliver    fulfilled → delivered
    POST /api/v1/orders/{id}/cancel     placed | paid → cancelled (a paid one is refunded in full)

A transition not allowed from the current status is 409 naming it (``current_status``).
Transitions take ``If-Match`` (412 on a stale version); it is optional because the status
check already makes a repeated or crossing call harmless, and a client that wants
lost-update protection sends it. Every change writes its event in the same transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
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
from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.customer_directory import CustomerDirectory, CustomerDirectoryDep, require_customer
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim, fingerprint, remember
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, paginate
from relacja_servicekit.validation import RequireJson

from ..domain.money import ZERO
from ..domain.pricing import CatalogItem, LineRequest, order_amounts, price_line
from ..domain.states import Action, IllegalTransition, next_status
from ..events import emit
from ..snapshot import line_json
from ..tables import known_customers, orders, products
from .common import PROBLEM, IfMatchHeader, check_if_match, etag, not_found
from .schemas import CancelRequest, OrderCreate, OrderPublic, OrdersPublic, PayRequest, order_public

__all__ = ["router", "require_orderable_customer", "load_order", "illegal_transition"]

router = APIRouter(prefix="/api/v1/orders", tags=["orders"], dependencies=[RequireJson])

_CREATE_SCOPE = "orders.create"
# Built once: a statement made per request (.values(**...)) costs ~1 ms of SQLAlchemy coercion.
_INSERT_ORDER = insert(orders).returning(*orders.c)


async def require_orderable_customer(session: AsyncSession, customer_id: uuid.UUID, directory: CustomerDirectory) -> None:
    """422 unless ``customer_id`` is an active customer: the projection first, the customers
    service once on a miss (read-through, so a customer created a moment ago can order)."""
    await require_customer(session, known_customers, directory, customer_id, service="orders")


async def _price(session: AsyncSession, body: OrderCreate) -> list[dict[str, Any]]:
    ids = {line.product_id for line in body.lines if line.product_id is not None}
    skus = {line.sku for line in body.lines if line.sku is not None}
    rows = (await session.execute(select(products).where(or_(products.c.id.in_(ids), products.c.sku.in_(skus))))).all()
    by_id, by_sku = {r.id: r for r in rows}, {r.sku: r for r in rows}
    priced, errors = [], []
    for index, line in enumerate(body.lines):
        field = f"body.lines.{index}.{'product_id' if line.product_id else 'sku'}"
        product = by_id.get(line.product_id) if line.product_id else by_sku.get(line.sku)  # type: ignore[arg-type]
        if product is None:
            errors.append({"field": field, "message": "no such product"})
        elif not product.active:
            errors.append({"field": field, "message": f"product {product.sku} is not active"})
        elif product.currency != body.currency:
            errors.append({"field": field, "message": f"product {product.sku} is priced in {product.currency}, not {body.currency}"})
        else:
            item = CatalogItem(product.id, product.sku, product.category, product.list_price, product.unit_cost, product.tax_rate, product.currency)
            priced.append(line_json(price_line(index + 1, item, LineRequest(line.quantity, line.discount_percent))))
    if errors:
        raise Problem(422, "Invalid order lines", "Some lines do not name an active product in the order's currency.",
                      type_="invalid-lines", errors=errors)
    return priced


@router.post(
    "",
    status_code=201,
    response_model=OrderPublic,
    summary="Place an order (priced by the service from the catalog)",
    responses={
        422: {"description": "Invalid body, unknown/erased/merged customer, unknown or inactive product, idempotency key reused", **PROBLEM},
        503: {"description": "The customers service could not be asked about a customer not projected yet (Retry-After)", **PROBLEM},
    },
)
async def place_order(
    body: OrderCreate, session: SessionDep, directory: CustomerDirectoryDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    async with session.begin():
        if idempotency_key:
            stored = await claim(session, scope=_CREATE_SCOPE, key=idempotency_key, fingerprint=fingerprint(body.model_dump(mode="json")))
            if stored:
                return stored.to_response()
        await require_orderable_customer(session, body.customer_id, directory)
        lines = await _price(session, body)
        now = datetime.now(timezone.utc)  # the service's clock: saves a round trip per request
        amounts = order_amounts(lines, currency=body.currency, cancelled=False)
        values = {
            "id": uuid.uuid4(), "customer_id": body.customer_id, "status": "placed", "channel": body.channel, "currency": body.currency,
            "placed_at": now, "lines": lines, "imported": False, "note": body.note,
            "shipping_address": body.shipping_address.model_dump() if body.shipping_address else None,
            "created_at": now, "updated_at": now, **amounts.as_dict(),
        }
        row = (await session.execute(_INSERT_ORDER, values)).one()
        await emit(session, OrderPlacedV1, row._mapping, now)
        payload = order_public(row).model_dump(mode="json")
        headers = {"Location": f"/api/v1/orders/{row.id}", "ETag": etag(row.version)}
        if idempotency_key:
            await remember(session, _CREATE_SCOPE, idempotency_key, status_code=201, body=payload, headers=headers)
    return JSONResponse(payload, status_code=201, headers=headers)


async def load_order(session: AsyncSession, order_id: uuid.UUID, *, for_update: bool = False) -> Any:
    query = select(orders).where(orders.c.id == order_id)
    row = (await session.execute(query.with_for_update() if for_update else query)).first()
    if row is None:
        raise not_found("Order", order_id)
    return row


@router.get("/{order_id}", response_model=OrderPublic, summary="Get an order", responses={404: {"description": "No such order", **PROBLEM}})
async def get_order(order_id: uuid.UUID, session: SessionDep, response: Response) -> OrderPublic:
    row = await load_order(session, order_id)
    response.headers["ETag"] = etag(row.version)
    return order_public(row)


@router.get("", response_model=OrdersPublic, summary="List orders, newest first (cursor-paginated)")
async def list_orders(
    session: SessionDep,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
    customer_id: uuid.UUID | None = None,
    status: OrderStatus | None = None,
    placed_after: Annotated[datetime | None, Query(description="RFC 3339; inclusive")] = None,
    placed_before: Annotated[datetime | None, Query(description="RFC 3339; exclusive")] = None,
) -> Any:
    conditions = []
    if customer_id is not None:
        conditions.append(orders.c.customer_id == customer_id)
    if status is not None:
        conditions.append(orders.c.status == status)
    if placed_after is not None:
        conditions.append(orders.c.placed_at >= placed_after)
    if placed_before is not None:
        conditions.append(orders.c.placed_at < placed_before)
    return await paginate(
        session, select(orders).where(and_(True, *conditions)), keys=[orders.c.placed_at, orders.c.id], limit=limit,
        cursor=cursor, descending=True, sort="-placed_at", to_item=order_public,
    )


def illegal_transition(err: IllegalTransition) -> Problem:
    return Problem(409, "Illegal transition", str(err), type_="illegal-transition",
                   extra={"current_status": err.current, "action": err.action})


_EVENTS = {"pay": OrderPaidV1, "fulfill": OrderFulfilledV1, "deliver": OrderDeliveredV1, "cancel": OrderCancelledV1}


async def _transition(session: AsyncSession, order_id: uuid.UUID, action: Action, if_match: str | None, **fields: Any) -> JSONResponse:
    async with session.begin():
        before = await load_order(session, order_id, for_update=True)
        check_if_match(if_match, before.version)
        try:
            status = next_status(action, before.status)
        except IllegalTransition as err:
            raise illegal_transition(err) from None
        extra: dict[str, Any] = {}
        values: dict[str, Any] = {"status": status, **fields}
        if action == "cancel":
            refund = before.total_amount if before.status == "paid" else ZERO
            amounts = order_amounts(before.lines, currency=before.currency, cancelled=True, refunded_amount=refund)
            values |= amounts.as_dict()
            extra = {"cancelled_from": before.status, "refund_amount": amounts.refunded_amount, "reason": fields.get("cancel_reason")}
        elif action == "pay":
            extra = {"payment_reference": fields.get("payment_reference")}
        now = datetime.now(timezone.utc)  # the service's clock: saves a round trip per request
        row = (
            await session.execute(
                update(orders).where(orders.c.id == order_id)
                .values(**values, version=orders.c.version + 1, updated_at=now).returning(*orders.c)
            )
        ).one()
        await emit(session, _EVENTS[action], row._mapping, now, **extra)
    return JSONResponse(order_public(row).model_dump(mode="json"), headers={"ETag": etag(row.version)})


_TRANSITION_RESPONSES = {
    404: {"description": "No such order", **PROBLEM},
    409: {"description": "Not allowed from the current status (`current_status` names it)", **PROBLEM},
    412: {"description": "If-Match does not match the current ETag", **PROBLEM},
}


@router.post("/{order_id}/pay", response_model=OrderPublic, summary="Record payment: placed → paid", responses=_TRANSITION_RESPONSES)
async def pay(order_id: uuid.UUID, session: SessionDep, body: PayRequest | None = None, if_match: IfMatchHeader = None) -> JSONResponse:
    return await _transition(session, order_id, "pay", if_match, payment_reference=body.payment_reference if body else None)


@router.post("/{order_id}/fulfill", response_model=OrderPublic, summary="Hand over for delivery: paid → fulfilled", responses=_TRANSITION_RESPONSES)
async def fulfill(order_id: uuid.UUID, session: SessionDep, if_match: IfMatchHeader = None) -> JSONResponse:
    return await _transition(session, order_id, "fulfill", if_match)


@router.post("/{order_id}/deliver", response_model=OrderPublic, summary="Record delivery: fulfilled → delivered", responses=_TRANSITION_RESPONSES)
async def deliver(order_id: uuid.UUID, session: SessionDep, if_match: IfMatchHeader = None) -> JSONResponse:
    return await _transition(session, order_id, "deliver", if_match)


@router.post("/{order_id}/cancel", response_model=OrderPublic, summary="Cancel: placed | paid → cancelled (paid: refunded)", responses=_TRANSITION_RESPONSES)
async def cancel(order_id: uuid.UUID, session: SessionDep, body: CancelRequest | None = None, if_match: IfMatchHeader = None) -> JSONResponse:
    return await _transition(session, order_id, "cancel", if_match, cancel_reason=body.reason if body else None)
