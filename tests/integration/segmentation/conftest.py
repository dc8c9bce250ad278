"""Fixtures for the segmentation service's integration tests: an HTTP client on the
running service, a connection to its database, a producer on the real broker, and
builders of real order / ticket / customer events."""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from relacja_contracts import CloudEvent, EventPayload
from relacja_contracts.events import OrderPlacedV1
from relacja_devstack import Stack

from ... import support
from ...support import service_client, service_db

# Seconds to wait for the projection to apply a test's events. It may still be working
# through earlier tests' events (thousands of imported customers, the churn tests' orders)
# when the first of these tests publishes; a consumer held up by retries (as it was by every
# customer update until that bug was fixed) took 17-22 s. Room for a loaded machine.
CONSUMED_WITHIN = 60


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with service_client(stack, "segmentation", timeout=60) as client:
        yield client


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    async with service_db(stack, "segmentation") as connection:
        yield connection


@pytest.fixture
def publish(producer: AIOKafkaProducer) -> Callable[[EventPayload], Awaitable[CloudEvent]]:
    """``await publish(payload)``: the payload as a real CloudEvent on the broker."""
    return functools.partial(support.publish, producer)


def order_event(
    customer_id: uuid.UUID,
    *,
    order_id: uuid.UUID | None = None,
    model: type = OrderPlacedV1,
    status: str = "placed",
    placed_at: datetime | None = None,
    gross: str = "100.00",
    returned: str = "0",
    cost: str | None = "60.00",
    occurred_at: datetime | None = None,
    currency: str = "PLN",
    **extra,
) -> EventPayload:
    """An order snapshot as the orders service publishes it (amounts per the contract's definitions)."""
    placed_at = placed_at or datetime.now(UTC) - timedelta(days=3)
    gross_d, returned_d = Decimal(gross), Decimal(returned)
    net = Decimal(0) if status == "cancelled" else gross_d - returned_d
    cost_d = Decimal(cost) if cost is not None else None
    margin = net - cost_d if cost_d is not None else None
    tax = (gross_d * Decimal("0.23")).quantize(Decimal("0.01"))
    return model(
        customer_id=customer_id,
        order_id=order_id or uuid.uuid4(),
        order_number=f"T-{uuid.uuid4().hex[:8]}",
        status=status,
        channel="web",
        placed_at=placed_at,
        currency=currency,
        gross_amount=gross_d,
        tax_amount=tax,
        total_amount=gross_d + tax,
        returned_amount=returned_d,
        refunded_amount=returned_d,
        net_amount=net,
        cost_amount=cost_d,
        margin=margin,
        occurred_at=occurred_at or datetime.now(UTC),
        **extra,
    )


@pytest.fixture
async def scratch_url(stack: Stack) -> AsyncIterator[str]:
    """A fresh database on the stack's PostgreSQL migrated to the segmentation head (alembic, as deployed)."""
    import asyncio
    import os
    import sys

    from relacja_devstack.config import REPO_ROOT

    name = f"seg_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(stack.postgres_dsn.rsplit("/", 1)[0] + "/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = stack.database_url("segmentation").rsplit("/", 1)[0] + f"/{name}"
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "alembic",
            "-c",
            "services/segmentation/alembic.ini",
            "upgrade",
            "heads",
            cwd=REPO_ROOT,
            env={**os.environ, "RELACJA_SEGMENTATION_DATABASE_URL": url},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await proc.communicate()
        assert proc.returncode == 0, output.decode()
        yield url
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
