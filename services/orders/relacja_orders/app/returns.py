"""Returns and complaints about goods of a delivered order.

    request_return(session, order_id, command)                → ReturnPublic; IllegalTransition, ReturnError
    list_returns(session, order_id)                           → ReturnsPublic, oldest first
    get_return(session, order_id, return_id)                  → ReturnPublic; NotFound
    decide_return(session, order_id, return_id, decision,     → ReturnPublic (accept: OrderReturnedV1);
                  check_version, note)                          IllegalTransition, ReturnError

Only a delivered order takes returns. A request for more than is left of a line —
bought, minus returned, minus other requests awaiting a decision (the pending limit) — is
a ``ReturnError``, so the limit holds however requests interleave (the order row is locked
while checking). Acceptance re-checks it, re-values the lines as of now, grows the order's
returned and refunded amounts and each line's ``returned_quantity`` (net, cost and margin
follow) and writes ``OrderReturnedV1``; rejection changes nothing on the order. A decided
request cannot be decided again. The refund is the value of the units plus their tax
(``domain.returns``); a complaint settled by refund is accepted the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events.orders import OrderReturnedV1

from ..domain.money import ZERO
from ..domain.pricing import order_amounts
from ..domain.returns import check_quantities, return_value
from ..domain.states import ReturnDecision, check_returnable, decided_status
from ..tables import order_returns, orders
from .errors import NotFound
from .events import emit, line_json
from .orders import get_order
from .schemas import ReturnCreate, ReturnPublic, ReturnsPublic, return_public, return_version

__all__ = ["request_return", "list_returns", "get_return", "decide_return"]


async def _pending(session: AsyncSession, order_id: uuid.UUID, *, excluding: uuid.UUID | None = None) -> dict[int, int]:
    """Units per line in the order's requests still awaiting a decision."""
    query = select(order_returns.c.lines).where(
        order_returns.c.order_id == order_id, order_returns.c.status == "requested"
    )
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
        lines.append(
            line_json({"line_no": line_no, "sku": line["sku"], "quantity": quantity, "amount": value, "tax": tax})
        )
        amount, refund = amount + value, refund + value + tax
    return lines, amount, refund


async def request_return(session: AsyncSession, order_id: uuid.UUID, command: ReturnCreate) -> ReturnPublic:
    order = await get_order(session, order_id, for_update=True)
    check_returnable(order.status)
    requested = {line.line_no: line.quantity for line in command.lines}
    check_quantities(order.lines, requested, await _pending(session, order_id))
    lines, amount, refund = _valued(order, requested)
    row = (
        await session.execute(
            insert(order_returns)
            .values(
                id=uuid.uuid4(),
                order_id=order_id,
                kind=command.kind,
                status="requested",
                lines=lines,
                amount=amount,
                refund_amount=refund,
                reason=command.reason,
            )
            .returning(*order_returns.c)
        )
    ).one()
    return return_public(row, order.currency)


async def list_returns(session: AsyncSession, order_id: uuid.UUID) -> ReturnsPublic:
    order = await get_order(session, order_id)
    rows = (
        await session.execute(
            select(order_returns)
            .where(order_returns.c.order_id == order_id)
            .order_by(order_returns.c.created_at, order_returns.c.id)
        )
    ).all()
    return ReturnsPublic(items=[return_public(row, order.currency) for row in rows])


async def _load_request(
    session: AsyncSession, order_id: uuid.UUID, return_id: uuid.UUID, *, for_update: bool = False
) -> Any:
    query = select(order_returns).where(order_returns.c.id == return_id, order_returns.c.order_id == order_id)
    row = (await session.execute(query.with_for_update() if for_update else query)).first()
    if row is None:
        raise NotFound("Return", return_id)
    return row


async def get_return(session: AsyncSession, order_id: uuid.UUID, return_id: uuid.UUID) -> ReturnPublic:
    order = await get_order(session, order_id)
    return return_public(await _load_request(session, order_id, return_id), order.currency)


async def decide_return(
    session: AsyncSession,
    order_id: uuid.UUID,
    return_id: uuid.UUID,
    decision: ReturnDecision,
    check_version: Callable[[int], None],
    note: str | None = None,
) -> ReturnPublic:
    """Accept or reject a request awaiting a decision (the order and the request locked)."""
    order = await get_order(session, order_id, for_update=True)
    request = await _load_request(session, order_id, return_id, for_update=True)
    check_version(return_version(request.status))
    status = decided_status(decision, request.status)
    now = datetime.now(UTC)
    if decision == "reject":
        decided = (
            await session.execute(
                update(order_returns)
                .where(order_returns.c.id == return_id)
                .values(status=status, decided_at=now, decision_note=note)
                .returning(*order_returns.c)
            )
        ).one()
        return return_public(decided, order.currency)
    check_returnable(order.status)
    requested = {line["line_no"]: line["quantity"] for line in request.lines}
    check_quantities(order.lines, requested, await _pending(session, order_id, excluding=return_id))
    lines, amount, refund = _valued(order, requested)
    new_lines = [
        line | {"returned_quantity": line.get("returned_quantity", 0) + requested.get(line["line_no"], 0)}
        for line in order.lines
    ]
    amounts = order_amounts(
        new_lines,
        currency=order.currency,
        cancelled=False,
        returned_amount=order.returned_amount + amount,
        refunded_amount=order.refunded_amount + refund,
    )
    updated = (
        await session.execute(
            update(orders)
            .where(orders.c.id == order_id)
            .values(lines=new_lines, **amounts.as_dict(), version=orders.c.version + 1, updated_at=now)
            .returning(*orders.c)
        )
    ).one()
    decided = (
        await session.execute(
            update(order_returns)
            .where(order_returns.c.id == return_id)
            .values(status=status, lines=lines, amount=amount, refund_amount=refund, decided_at=now, decision_note=note)
            .returning(*order_returns.c)
        )
    ).one()
    await emit(
        session,
        OrderReturnedV1,
        updated._mapping,
        now,
        return_id=return_id,
        refund_amount=refund,
        reason=request.reason,
        returned_lines=[
            {"line_no": line["line_no"], "sku": line["sku"], "quantity": line["quantity"], "amount": line["amount"]}
            for line in lines
        ],
    )
    return return_public(decided, order.currency)
