"""Order events move a customer's lifecycle stage: the customers service consumes
``relacja.orders`` (published here as the orders service's relay would)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from relacja_contracts.events import OrderPlacedV1

from ...support import eventually, publish
from .support import CUSTOMERS_PATH, create


def order_placed(customer_id: str, *, imported: bool = False) -> OrderPlacedV1:
    now = datetime.now(UTC)
    return OrderPlacedV1(
        customer_id=uuid.UUID(customer_id),
        order_id=uuid.uuid4(),
        order_number="T-1",
        status="placed",
        channel="web",
        placed_at=now,
        currency="PLN",
        gross_amount="100.00",
        tax_amount="23.00",
        total_amount="123.00",
        returned_amount="0",
        refunded_amount="0",
        net_amount="100.00",
        cost_amount=None,
        margin=None,
        imported=imported,
        occurred_at=now,
    )


async def stage_of(api: httpx.AsyncClient, customer_id: str) -> dict:
    response = await api.get(f"{CUSTOMERS_PATH}/{customer_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_prospect_who_orders_becomes_a_customer_once(
    api: httpx.AsyncClient, producer: AIOKafkaProducer, db: asyncpg.Connection
) -> None:
    prospect = await create(api, display_name="Ola Zamawiająca", lifecycle_stage="prospect")
    await publish(producer, order_placed(prospect["id"]))

    async def promoted() -> dict | None:
        record = await stage_of(api, prospect["id"])
        return record if record["lifecycle_stage"] == "customer" else None

    record = await eventually(promoted)
    assert record["version"] == prospect["version"] + 1
    timeline = (await api.get(f"{CUSTOMERS_PATH}/{prospect['id']}/timeline")).json()["items"]
    assert any(item.get("event_type", "").endswith("customer.updated.v1") for item in timeline), timeline

    # A second order is applied and changes nothing: already a customer, no new version.
    second = await publish(producer, order_placed(prospect["id"]))
    await eventually(lambda: applied(db, second.id))
    assert (await stage_of(api, prospect["id"]))["version"] == record["version"]


async def applied(db: asyncpg.Connection, event_id: str) -> bool:
    outcome = await db.fetchval(
        "SELECT outcome FROM inbox_events WHERE consumer = 'customers.lifecycle' AND event_id = $1", event_id
    )
    return outcome == "applied"


async def test_an_order_for_an_unknown_or_erased_customer_changes_nothing(
    api: httpx.AsyncClient, producer: AIOKafkaProducer, db: asyncpg.Connection
) -> None:
    unknown = await publish(producer, order_placed(str(uuid.uuid4())))
    await eventually(lambda: applied(db, unknown.id))
    lead = await create(api, display_name="Leon Usuwany", lifecycle_stage="lead")
    assert (await api.post(f"{CUSTOMERS_PATH}/{lead['id']}/erase")).status_code == 200
    erased = await publish(producer, order_placed(lead["id"], imported=True))
    await eventually(lambda: applied(db, erased.id))
    assert (await stage_of(api, lead["id"]))["lifecycle_stage"] == "lead"
