"""Fixtures of the churn service's integration tests: an HTTP client on the service, a
connection to its database, and helpers that publish real CloudEvents to the broker.

Every test uses its own customer ids and its own era of dates (runs fit only customers
whose first purchase falls in the run's window), so tests do not see each other's data.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from decimal import Decimal

import asyncpg
import httpx
import pytest

from relacja_contracts.events import OrderCancelledV1, OrderPlacedV1, OrderReturnedV1
from relacja_devstack import Stack

from ...support import service_client, service_db


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with service_client(stack, "churn", timeout=30) as client:
        yield client


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    async with service_db(stack, "churn") as connection:
        yield connection


def at_noon(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=UTC)


def order_fields(
    customer_id: uuid.UUID,
    order_id: uuid.UUID,
    day: date,
    amount: Decimal | str,
    *,
    status: str = "placed",
    returned: Decimal | str = "0",
    currency: str = "PLN",
    occurred_at: datetime | None = None,
) -> dict:
    gross = Decimal(amount)
    back = Decimal(returned)
    net = Decimal("0") if status == "cancelled" else gross - back
    return {
        "customer_id": customer_id,
        "order_id": order_id,
        "order_number": f"T-{order_id.hex[:8]}",
        "status": status,
        "channel": "web",
        "placed_at": at_noon(day),
        "currency": currency,
        "gross_amount": gross,
        "tax_amount": Decimal("0"),
        "total_amount": gross,
        "returned_amount": back,
        "refunded_amount": back,
        "net_amount": net,
        "cost_amount": None,
        "margin": None,
        "occurred_at": occurred_at or at_noon(day),
    }


def placed(customer_id, order_id, day, amount, **kw) -> OrderPlacedV1:
    return OrderPlacedV1(**order_fields(customer_id, order_id, day, amount, **kw))


def cancelled(customer_id, order_id, day, amount, *, occurred_at: datetime) -> OrderCancelledV1:
    return OrderCancelledV1(
        **order_fields(customer_id, order_id, day, amount, status="cancelled", occurred_at=occurred_at),
        cancelled_from="placed",
        refund_amount=Decimal("0"),
    )


def returned(customer_id, order_id, day, amount, back, *, occurred_at: datetime) -> OrderReturnedV1:
    return OrderReturnedV1(
        **order_fields(customer_id, order_id, day, amount, status="delivered", returned=back, occurred_at=occurred_at),
        return_id=uuid.uuid4(),
        returned_lines=[],
        refund_amount=Decimal(back),
    )
