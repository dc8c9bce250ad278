"""The ``orders.customers`` batch path: a fetch's registrations in one INSERT with their
external ids, an erasure in the middle of the fetch staying, and a replay changing nothing."""

from __future__ import annotations

import uuid

import asyncpg

from relacja_devstack import Stack
from relacja_orders.consumers import handlers

from ..batches import apply_fetch, erased, event_of, registered


async def test_a_fetch_of_registrations_projects_customers_with_external_ids(
    stack: Stack, db: asyncpg.Connection
) -> None:
    tag = uuid.uuid4().hex[:8]
    ids = [uuid.uuid4() for _ in range(50)]
    gone = ids[7]
    events = [event_of(registered(cid, external_id=f"batch-{tag}-{n}")) for n, cid in enumerate(ids)]
    events.insert(20, event_of(erased(gone)))
    events.insert(30, event_of(registered(gone, external_id=f"batch-{tag}-again")))  # after its erasure
    events.insert(40, event_of(registered(ids[0], external_id=f"batch-{tag}-other")))  # a second registration
    await apply_fetch(stack, "orders", handlers, events)

    async def projection() -> dict:
        rows = await db.fetch(
            "SELECT customer_id, state, external_id FROM known_customers WHERE customer_id = ANY($1)", ids
        )
        return {r["customer_id"]: (r["state"], r["external_id"]) for r in rows}

    expected: dict[uuid.UUID, tuple[str, str | None]] = {
        cid: ("active", f"batch-{tag}-{n}") for n, cid in enumerate(ids)
    }
    expected[gone] = ("erased", None)  # the erasure removed the external id; the later registration did not restore it
    assert await projection() == expected

    await apply_fetch(stack, "orders", handlers, events)  # a replay under a fresh inbox
    assert await projection() == expected
