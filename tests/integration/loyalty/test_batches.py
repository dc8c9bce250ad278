"""The ``loyalty.projection`` batch path for order events: one membership query for the
fetch, then only members' paid orders earn — each order once, however often it appears,
and a replay of the fetch earns nothing more."""

from __future__ import annotations

import json
import uuid

import asyncpg
import httpx

from relacja_contracts.events import OrderPaidV1
from relacja_devstack import Stack
from relacja_loyalty.consumers import handlers

from ..batches import apply_fetch, event_of
from .support import assert_ledger_sums, customer, enrol, member, new_product, order_paid, programme, wait_balance


async def test_a_fetch_of_paid_orders_earns_for_members_only_and_once_per_order(
    stack: Stack,
    api: httpx.AsyncClient,
    orders_api: httpx.AsyncClient,
    customers_api: httpx.AsyncClient,
    db: asyncpg.Connection,
    orders_db: asyncpg.Connection,
) -> None:
    club = await programme(api, order_bonus_threshold="100", order_bonus_points=25)
    customer_id = await customer(customers_api)
    joined = await enrol(api, club["id"], customer_id)
    product = await new_product(orders_api, "40.00")
    order = await order_paid(orders_api, customer_id, product["id"], 3)  # 120.00 net → 120 + 25 bonus
    await wait_balance(api, joined["id"], 145)
    # The live event, as a template for orders this test hands to the batch path only.
    row = await orders_db.fetchrow(
        "SELECT payload FROM outbox_events WHERE event_type = $1 AND payload->>'order_id' = $2",
        OrderPaidV1.event_type,
        order["id"],
    )
    assert row is not None
    template = json.loads(row["payload"])

    def paid(buyer: str) -> OrderPaidV1:
        return OrderPaidV1.model_validate(template | {"order_id": str(uuid.uuid4()), "customer_id": buyer})

    first, second, stranger = paid(customer_id), paid(customer_id), paid(str(uuid.uuid4()))
    events = [event_of(first), event_of(stranger), event_of(second), event_of(first)]  # first twice: ids differ
    await apply_fetch(stack, "loyalty", handlers, events)
    assert (await member(api, joined["id"]))["balance"] == 3 * 145
    assert await db.fetchval("SELECT count(*) FROM loyalty_orders WHERE order_id = $1", stranger.order_id) == 0

    await apply_fetch(stack, "loyalty", handlers, events)  # a replay under a fresh inbox
    assert (await member(api, joined["id"]))["balance"] == 3 * 145
    await assert_ledger_sums(db, joined["id"])
