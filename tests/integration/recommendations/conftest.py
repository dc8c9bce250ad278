"""Fixtures of the recommendations integration tests: an HTTP client on the service, its
database, a producer on the stack's broker, and builders of real order, product, customer
and consent events.

Every test uses fresh customer and product ids, so the pair counts of its products and
the baskets of its customers are its own. Only the number of baskets in the window (N) is
shared with the other tests: assertions on support and lift read N from the same answer.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from relacja_contracts import CloudEvent, EventPayload
from relacja_contracts.events import (
    ConsentGrantedV1,
    CustomerRegisteredV1,
    OrderPlacedV1,
    ProductChangedV1,
)
from relacja_contracts.events.orders import OrderLine
from relacja_devstack import Stack
from relacja_messaging.kafka import producer_options

from ...support import applied, eventually, publish, service_client, service_db

CONSUMER = "recommendations.projection"


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with service_client(stack, "recommendations", timeout=60) as client:
        yield client


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    async with service_db(stack, "recommendations") as connection:
        yield connection


@pytest.fixture
async def producer(stack: Stack) -> AsyncIterator[AIOKafkaProducer]:
    client = AIOKafkaProducer(**producer_options(stack.bootstrap_servers))
    await client.start()
    try:
        yield client
    finally:
        await client.stop()


async def send_all(
    producer: AIOKafkaProducer, db: asyncpg.Connection, payloads: Iterable[EventPayload], *, timeout: float = 120
) -> list[CloudEvent]:
    """Publish the events (in order) and wait until the service has applied every one."""
    events = [await publish(producer, p, wait=False) for p in payloads]
    await producer.flush()

    async def all_applied() -> bool:
        count = await db.fetchval(
            "SELECT count(*) FROM inbox_events WHERE consumer = $1 AND event_id = ANY($2::text[])",
            CONSUMER,
            [e.id for e in events],
        )
        if count < len(events):
            return False
        return all([await applied(db, CONSUMER, e.id) for e in events[-1:]])

    await eventually(all_applied, timeout=timeout, interval=0.2)
    return events


def registered(customer_id: uuid.UUID, at: datetime | None = None) -> CustomerRegisteredV1:
    return CustomerRegisteredV1(
        customer_id=customer_id,
        kind="person",
        display_name="Test",
        lifecycle_stage="customer",
        registered_at=at or datetime(2000, 1, 1, tzinfo=UTC),
    )


def profiling(customer_id: uuid.UUID, consent_id: uuid.UUID | None = None, at: datetime | None = None):
    return ConsentGrantedV1(
        customer_id=customer_id,
        consent_id=consent_id or uuid.uuid4(),
        purpose="profiling",
        source="tests",
        occurred_at=at or datetime.now(UTC),
    )


def product(
    product_id: uuid.UUID,
    sku: str,
    *,
    category: str = "test",
    price: str = "10.00",
    cost: str | None = "6.00",
    active: bool = True,
    version: int = 1,
) -> ProductChangedV1:
    return ProductChangedV1(
        product_id=product_id,
        sku=sku,
        name=f"Product {sku}",
        category=category,
        list_price=Decimal(price),
        unit_cost=None if cost is None else Decimal(cost),
        currency="PLN",
        active=active,
        version=version,
        occurred_at=datetime.now(UTC),
    )


def order(
    customer_id: uuid.UUID,
    products: list[uuid.UUID],
    placed_at: datetime,
    *,
    order_id: uuid.UUID | None = None,
    returned: dict[uuid.UUID, int] | None = None,
    status: str = "placed",
    occurred_at: datetime | None = None,
    model: type = OrderPlacedV1,
    **extra,
):
    returned = returned or {}
    lines = [
        OrderLine(
            line_no=i + 1,
            product_id=p,
            sku=f"SKU-{p.hex[:8]}",
            category="test",
            quantity=1,
            unit_price=Decimal("10.00"),
            unit_cost=Decimal("6.00"),
            discount_amount=Decimal("0"),
            line_amount=Decimal("10.00"),
            returned_quantity=returned.get(p, 0),
        )
        for i, p in enumerate(products)
    ]
    oid = order_id or uuid.uuid4()
    gross = Decimal(10 * len(products))
    back = Decimal(10 * sum(returned.values()))
    return model(
        customer_id=customer_id,
        order_id=oid,
        order_number=f"T-{oid.hex[:8]}",
        status=status,
        channel="web",
        placed_at=placed_at,
        currency="PLN",
        gross_amount=gross,
        tax_amount=Decimal("0"),
        total_amount=gross,
        returned_amount=back,
        refunded_amount=back,
        net_amount=Decimal(0) if status == "cancelled" else gross - back,
        cost_amount=None,
        margin=None,
        lines=lines,
        occurred_at=occurred_at or placed_at,
        **extra,
    )
