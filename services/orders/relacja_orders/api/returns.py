"""Returns and complaints about goods: ``/api/v1/orders/{id}/returns``.

    POST /api/v1/orders/{id}/returns                    request (Idempotency-Key): lines and quantities
    GET  /api/v1/orders/{id}/returns                    the order's requests, oldest first
    POST /api/v1/orders/{id}/returns/{rid}/accept       accept: the order's returned and refunded
                                                        amounts, net and margin follow; OrderReturnedV1
    POST /api/v1/orders/{id}/returns/{rid}/reject       reject: nothing changes on the order

Only a delivered order takes returns (409 naming its status otherwise). A request for more
than is left of a line — bought, minus returned, minus other requests awaiting a decision —
is 422 ``return-exceeds-purchase``, so the limit holds however requests interleave (the
order row is locked while checking). A decided request cannot be decided again (409).
The refund of an accepted request is the value of the units plus their tax
(``domain.returns``); a complaint settled by refund is accepted the same way.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events.orders import OrderReturnedV1
from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim, fingerprint, remember
from relacja_servicekit.validation import RequireJson

from ..domain.money import ZERO, round_money
from ..domain.pricing import order_amounts
from ..domain.returns import ReturnError, check_quantities, return_value
from ..events import emit
from ..snapshot import line_json
from ..tables import order_returns, orders
from .common import PROBLEM, not_found
from .orders import load_order
from .schemas import DecisionRequest, ReturnCreate, ReturnPublic, ReturnsPublic

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/orders/{order_id}/returns", tags=["returns"], dependencies=[RequireJson])

_CREATE_SCOPE = "orders.returns.create"


def _public(row: Any, currency: str) -> ReturnPublic:
    data = dict(row._mapping)
    data["amount"], data["refund_amount"] = round_money(row.amount, currency), round_money(row.refund_amount, currency)
    return ReturnPublic.model_validate(data)


def _require_delivered(order: Any) -> None:
    if order.status != "delivered":
        raise Problem(409, "Order not delivered", f"Only a delivered order takes returns; this order is {order.status}.",
                      type_="illegal-transition", extra={"current_status": order.status, "action": "return"})


async def _pending(session: AsyncSession, order_id: uuid.UUID, *, excluding: uuid.UUID | None = None) -> dict[int, int]:
    query = select(order_returns.c.lines).where(order_returns.c.order_id == order_id, order_returns.c.status == "requested")
    if excluding is not None:
        query = query.where(order_returns.c.id != excluding)
    pending: dict[int, int] = {}
    for lines in (await session.scalars(query)).all():
        for line in lines:
            pending[line["line_no"]] = pending.get(line["line_no"], 0) + line["quantity"]
    return pending


def _valued(order: Any, requested: dict[int, int]) -> tuple[list[dict[str, Any]], Decimal, Decimal]:
    """The return's lines with their value and tax as of now, the value and the refund."""
    by_no = {line["line_no"]: line for line in order.lines}
    lines, amount, refund = [], ZERO, ZERO
    for line_no, quantity in requested.items():
        line = by_no[line_no]
        value, tax = return_value(line, quantity, order.currency)
        lines.append(line_json({"line_no": line_no, "sku": line["sku"], "quantity": quantity, "amount": value, "tax": tax}))
        amount, refund = amount + value, refund + value + tax
    return lines, amount, refund


def _over_return(err: ReturnError) -> Problem:
    return Problem(422, "Return exceeds purchase", "A customer cannot return more than was bought.",
                   type_="return-exceeds-purchase", errors=err.errors)


@router.post(
    "",
    status_code=201,
    response_model=ReturnPublic,
    summary="Request a return (or complaint) of some lines or quantities of a delivered order",
    responses={404: {"description": "No such order", **PROBLEM}, 409: {"description": "Order not delivered", **PROBLEM},
               422: {"description": "More than is left to return, or an invalid body", **PROBLEM}},
)
async def request_return(order_id: uuid.UUID, body: ReturnCreate, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
    async with session.begin():
        if idempotency_key:
            fp = fingerprint({"order_id": str(order_id), **body.model_dump(mode="json")})
            stored = await claim(session, scope=_CREATE_SCOPE, key=idempotency_key, fingerprint=fp)
            if stored:
                return stored.to_response()
        order = await load_order(session, order_id, for_update=True)
        _require_delivered(order)
        requested = {line.line_no: line.quantity for line in body.lines}
        try:
            check_quantities(order.lines, requested, await _pending(session, order_id))
        except ReturnError as err:
            raise _over_return(err) from None
        lines, amount, refund = _valued(order, requested)
        row = (
            await session.execute(
                insert(order_returns).values(
                    id=uuid.uuid4(), order_id=order_id, kind=body.kind, status="requested", lines=lines,
                    amount=amount, refund_amount=refund, reason=body.reason,
                ).returning(*order_returns.c)
            )
        ).one()
        payload = _public(row, order.currency).model_dump(mode="json")
        headers = {"Location": f"/api/v1/orders/{order_id}/returns/{row.id}"}
        if idempotency_key:
            await remember(session, _CREATE_SCOPE, idempotency_key, status_code=201, body=payload, headers=headers)
    return JSONResponse(payload, status_code=201, headers=headers)


@router.get("", response_model=ReturnsPublic, summary="The order's return requests, oldest first",
            responses={404: {"description": "No such order", **PROBLEM}})
async def list_returns(order_id: uuid.UUID, session: SessionDep) -> ReturnsPublic:
    order = await load_order(session, order_id)
    rows = (await session.execute(
        select(order_returns).where(order_returns.c.order_id == order_id).order_by(order_returns.c.created_at, order_returns.c.id)
    )).all()
    return ReturnsPublic(items=[_public(row, order.currency) for row in rows])


async def _load_request(session: AsyncSession, order_id: uuid.UUID, return_id: uuid.UUID) -> Any:
    row = (await session.execute(
        select(order_returns).where(order_returns.c.id == return_id, order_returns.c.order_id == order_id).with_for_update()
    )).first()
    if row is None:
        raise not_found("Return", return_id)
    if row.status != "requested":
        raise Problem(409, "Return already decided", f"This return was already {row.status}.", type_="return-decided",
                      extra={"current_status": row.status})
    return row


_DECISION_RESPONSES: dict[int | str, dict[str, Any]] = {404: {"description": "No such order or return", **PROBLEM}, 409: {"description": "Already decided", **PROBLEM},
                       422: {"description": "Accepting would return more than was bought", **PROBLEM}}


@router.post("/{return_id}/accept", response_model=ReturnPublic, summary="Accept a return: refund it", responses=_DECISION_RESPONSES)
async def accept_return(order_id: uuid.UUID, return_id: uuid.UUID, session: SessionDep, body: DecisionRequest | None = None) -> ReturnPublic:
    async with session.begin():
        order = await load_order(session, order_id, for_update=True)
        request = await _load_request(session, order_id, return_id)
        _require_delivered(order)
        requested = {line["line_no"]: line["quantity"] for line in request.lines}
        try:
            check_quantities(order.lines, requested, await _pending(session, order_id, excluding=return_id))
        except ReturnError as err:
            raise _over_return(err) from None
        lines, amount, refund = _valued(order, requested)
        new_lines = [line | {"returned_quantity": line.get("returned_quantity", 0) + requested.get(line["line_no"], 0)} for line in order.lines]
        amounts = order_amounts(new_lines, currency=order.currency, cancelled=False,
                                returned_amount=order.returned_amount + amount, refunded_amount=order.refunded_amount + refund)
        now = datetime.now(UTC)
        updated = (await session.execute(
            update(orders).where(orders.c.id == order_id)
            .values(lines=new_lines, **amounts.as_dict(), version=orders.c.version + 1, updated_at=now).returning(*orders.c)
        )).one()
        decided = (await session.execute(
            update(order_returns).where(order_returns.c.id == return_id)
            .values(status="accepted", lines=lines, amount=amount, refund_amount=refund, decided_at=now, decision_note=body.note if body else None)
            .returning(*order_returns.c)
        )).one()
        await emit(
            session, OrderReturnedV1, updated._mapping, now, return_id=return_id, refund_amount=refund, reason=request.reason,
            returned_lines=[{"line_no": line["line_no"], "sku": line["sku"], "quantity": line["quantity"], "amount": line["amount"]} for line in lines],
        )
    return _public(decided, order.currency)


@router.post("/{return_id}/reject", response_model=ReturnPublic, summary="Reject a return", responses=_DECISION_RESPONSES)
async def reject_return(order_id: uuid.UUID, return_id: uuid.UUID, session: SessionDep, body: DecisionRequest | None = None) -> ReturnPublic:
    async with session.begin():
        order = await load_order(session, order_id, for_update=True)
        await _load_request(session, order_id, return_id)
        decided = (await session.execute(
            update(order_returns).where(order_returns.c.id == return_id)
            .values(status="rejected", decided_at=func.now(), decision_note=body.note if body else None).returning(*order_returns.c)
        )).one()
    return _public(decided, order.currency)
