"""``/api/v1/orders``: placing orders, reading them and moving them through their states
(HTTP; the use cases are in ``app/orders.py``).

    POST /api/v1/orders                 place (Idempotency-Key): priced from the catalog, with an optional
                                        coupon_code redeemed in the same transaction
    GET  /api/v1/orders/{id}            one order with its ETag
    GET  /api/v1/orders                 ?customer_id=&status=&placed_after=&placed_before=, newest first
    POST /api/v1/orders/{id}/pay        placed → paid        (body: payment_reference)
    POST /api/v1/orders/{id}/fulfill    paid → fulfilled
    POST /api/v1/orders/{id}/deliver    fulfilled → delivered
    POST /api/v1/orders/{id}/cancel     placed | paid → cancelled (a paid one is refunded in full)

An action not allowed in the current status is 409 ``illegal-transition`` naming it
(``current_status``) and what is allowed (``allowed_actions``). Actions take ``If-Match``
(412 on a stale version); it is optional because the status check already makes a
repeated or crossing call harmless, and a client that wants lost-update protection sends it.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from relacja_contracts.events.orders import OrderStatus
from relacja_servicekit import SessionDep
from relacja_servicekit.customer_directory import CustomerDirectoryDep
from relacja_servicekit.etags import IfMatchHeader, check_if_match, etag
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.types import Timestamp
from relacja_servicekit.validation import RequireJson

from ..app import orders
from ..app.schemas import CancelRequest, OrderCreate, OrderPublic, OrdersPublic, PayRequest, order_public
from ..domain.states import Action
from .problems import ILLEGAL_TRANSITION, app_errors

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/orders", tags=["orders"], dependencies=[RequireJson])

_CREATE_SCOPE = "orders.create"

_PLACE_422 = (
    "Invalid body; the customer is unknown, erased or merged away (unknown-customer, customer-erased, customer-merged); "
    "a line names no active product in the order's currency (invalid-lines); the coupon cannot be used (coupon-rejected, "
    "`reason`: unknown, revoked, other_customer, not_yet_valid, expired, used_up, not_applicable, not_combinable, "
    "below_minimum); an Idempotency-Key reused with another body"
)


@router.post(
    "",
    status_code=201,
    response_model=OrderPublic,
    summary="Place an order (priced by the service from the catalog)",
    responses=problem_responses(
        {422: _PLACE_422},
        {503: "The customers service could not be asked about a customer not projected yet (Retry-After)"},
    ),
)
async def place_order(
    body: OrderCreate,
    session: SessionDep,
    directory: CustomerDirectoryDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    with app_errors():
        async with session.begin():
            if stored := await claim_request(session, _CREATE_SCOPE, idempotency_key, body):
                return stored.to_response()
            order = await orders.place_order(session, body, directory)
            return await created_response(
                session,
                _CREATE_SCOPE,
                idempotency_key,
                order.model_dump(mode="json"),
                location=f"{router.prefix}/{order.id}",
                version=order.version,
            )


@router.get(
    "/{order_id}",
    response_model=OrderPublic,
    summary="Get an order",
    responses=problem_responses({404: "No such order"}),
)
async def get_order(order_id: uuid.UUID, session: SessionDep, response: Response) -> Any:
    with app_errors():
        row = await orders.get_order(session, order_id)
    response.headers["ETag"] = etag(row.version)
    return order_public(row)


@router.get("", response_model=OrdersPublic, summary="List orders, newest first (cursor-paginated)")
async def list_orders(
    session: SessionDep,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
    customer_id: uuid.UUID | None = None,
    status: OrderStatus | None = None,
    placed_after: Annotated[Timestamp | None, Query(description="RFC 3339; inclusive")] = None,
    placed_before: Annotated[Timestamp | None, Query(description="RFC 3339; exclusive")] = None,
) -> Any:
    query = orders.OrderQuery(
        customer_id=customer_id, status=status, placed_after=placed_after, placed_before=placed_before
    )
    return await orders.list_orders(session, query, limit=limit, cursor=cursor)


async def _act(
    session: SessionDep, order_id: uuid.UUID, action: Action, if_match: str | None, **fields: Any
) -> JSONResponse:
    def check_version(version: int) -> None:
        check_if_match(if_match, version, what="order")

    with app_errors():
        async with session.begin():
            order = await orders.transition(session, order_id, action, check_version, **fields)
    return JSONResponse(order.model_dump(mode="json"), headers={"ETag": etag(order.version)})


_ACTION_RESPONSES = problem_responses({404: "No such order"}, {409: ILLEGAL_TRANSITION})


@router.post(
    "/{order_id}/pay", response_model=OrderPublic, summary="Record payment: placed → paid", responses=_ACTION_RESPONSES
)
async def pay(
    order_id: uuid.UUID, session: SessionDep, body: PayRequest | None = None, if_match: IfMatchHeader = None
) -> JSONResponse:
    return await _act(session, order_id, "pay", if_match, payment_reference=body.payment_reference if body else None)


@router.post(
    "/{order_id}/fulfill",
    response_model=OrderPublic,
    summary="Hand over for delivery: paid → fulfilled",
    responses=_ACTION_RESPONSES,
)
async def fulfill(order_id: uuid.UUID, session: SessionDep, if_match: IfMatchHeader = None) -> JSONResponse:
    return await _act(session, order_id, "fulfill", if_match)


@router.post(
    "/{order_id}/deliver",
    response_model=OrderPublic,
    summary="Record delivery: fulfilled → delivered",
    responses=_ACTION_RESPONSES,
)
async def deliver(order_id: uuid.UUID, session: SessionDep, if_match: IfMatchHeader = None) -> JSONResponse:
    return await _act(session, order_id, "deliver", if_match)


@router.post(
    "/{order_id}/cancel",
    response_model=OrderPublic,
    summary="Cancel: placed | paid → cancelled (paid: refunded)",
    responses=_ACTION_RESPONSES,
)
async def cancel(
    order_id: uuid.UUID, session: SessionDep, body: CancelRequest | None = None, if_match: IfMatchHeader = None
) -> JSONResponse:
    return await _act(session, order_id, "cancel", if_match, cancel_reason=body.reason if body else None)
