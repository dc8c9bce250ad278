"""The ``customers.lifecycle`` batch path: a fetch of placed orders and converted leads moves
each customer's stage once, in the events' order, and a replay of the fetch changes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import httpx

from relacja_contracts.events import LeadConvertedV1
from relacja_customers.consumers import handlers
from relacja_devstack import Stack

from ..batches import apply_fetch, event_of
from .support import create
from .test_lifecycle_from_orders import order_placed


def lead_converted(customer_id: str) -> LeadConvertedV1:
    return LeadConvertedV1(
        customer_id=uuid.UUID(customer_id), opportunity_id=uuid.uuid4(), occurred_at=datetime.now(UTC)
    )


async def state(db: asyncpg.Connection, customer: dict) -> tuple[str, int, int]:
    """Stage, version and the number of customer.updated events in the customer's log."""
    row = await db.fetchrow("SELECT lifecycle_stage, version FROM customers WHERE id = $1", uuid.UUID(customer["id"]))
    assert row is not None
    updates = await db.fetchval(
        "SELECT count(*) FROM customer_event_log WHERE customer_id = $1 AND event_type LIKE '%customer.updated.v1'",
        uuid.UUID(customer["id"]),
    )
    return row["lifecycle_stage"], row["version"], updates


async def test_a_fetch_moves_each_customer_once_in_event_order_and_a_replay_changes_nothing(
    stack: Stack, api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    lead = await create(api, display_name="Lena Lead", lifecycle_stage="lead")
    prospect = await create(api, display_name="Piotr Prospect", lifecycle_stage="prospect")
    buyer = await create(api, display_name="Kasia Klientka", lifecycle_stage="customer")
    late_lead = await create(api, display_name="Olek Opóźniony", lifecycle_stage="lead")
    events = [
        event_of(lead_converted(lead["id"])),  # lead → prospect ...
        event_of(order_placed(prospect["id"])),
        event_of(order_placed(lead["id"])),  # ... → customer, in the same fetch
        event_of(order_placed(prospect["id"])),  # a second order of the same customer: no further move
        event_of(order_placed(buyer["id"])),  # already a customer
        event_of(order_placed(str(uuid.uuid4()))),  # a customer not here: left alone
        event_of(order_placed(late_lead["id"])),  # out of order: the order before the conversion ...
        event_of(lead_converted(late_lead["id"])),  # ... which then changes nothing (no step back)
    ]
    await apply_fetch(stack, "customers", handlers, events)

    assert await state(db, lead) == ("customer", lead["version"] + 1, 1)  # one step, one event
    assert await state(db, prospect) == ("customer", prospect["version"] + 1, 1)
    assert await state(db, buyer) == ("customer", buyer["version"], 0)
    assert await state(db, late_lead) == ("customer", late_lead["version"] + 1, 1)

    # A replay (a fresh inbox, as after a reset of the consumer group): the guards hold.
    await apply_fetch(stack, "customers", handlers, events)
    assert await state(db, lead) == ("customer", lead["version"] + 1, 1)
    assert await state(db, prospect) == ("customer", prospect["version"] + 1, 1)
    assert await state(db, late_lead) == ("customer", late_lead["version"] + 1, 1)
