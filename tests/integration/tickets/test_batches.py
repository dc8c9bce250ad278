"""The ``tickets.events`` batch path: a fetch's registrations and placed orders in one
INSERT each, with the one-by-one path's outcome (first registration wins, an erasure in
the middle of the fetch stays), and a replay of the fetch changes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from relacja_devstack import Stack
from relacja_tickets.consumers import handlers

from ..batches import apply_fetch, erased, event_of, registered
from .test_customer_events import placed_order


async def test_a_fetch_of_registrations_orders_and_an_erasure_applies_like_one_by_one(
    stack: Stack, db: asyncpg.Connection
) -> None:
    first, second, gone = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    earlier = datetime.now(UTC) - timedelta(days=1)
    orders = [placed_order(first, earlier), placed_order(first, earlier), placed_order(second, earlier)]
    events = [
        event_of(registered(first)),
        event_of(registered(gone)),
        event_of(orders[0]),
        event_of(registered(first)),  # the same customer twice in one fetch
        event_of(erased(gone)),  # breaks the run: registrations after it are a new INSERT
        event_of(registered(gone)),  # out of order (a replayed registration): the erasure stays
        event_of(orders[1]),
        event_of(registered(second)),
        event_of(orders[2]),
        event_of(orders[0]),  # the same order again under a new event id (a replayed upstream)
    ]
    await apply_fetch(stack, "tickets", handlers, events)

    async def projection() -> tuple[dict, dict]:
        states = await db.fetch(
            "SELECT customer_id, state FROM known_customers WHERE customer_id = ANY($1)", [first, second, gone]
        )
        known = await db.fetch(
            "SELECT order_id, customer_id FROM known_orders WHERE order_id = ANY($1)", [o.order_id for o in orders]
        )
        return {r["customer_id"]: r["state"] for r in states}, {r["order_id"]: r["customer_id"] for r in known}

    states, known = await projection()
    assert states == {first: "active", second: "active", gone: "erased"}
    assert known == {orders[0].order_id: first, orders[1].order_id: first, orders[2].order_id: second}

    await apply_fetch(stack, "tickets", handlers, events)  # a replay under a fresh inbox
    assert await projection() == (states, known)
