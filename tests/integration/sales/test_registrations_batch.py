"""The ``sales.projection`` batch path: a fetch's registrations in two INSERTs (the customers,
the new leads), the first of two registrations winning, a replay changing nothing."""

from __future__ import annotations

import uuid

import asyncpg

from relacja_devstack import Stack
from relacja_sales.consumers import handlers

from ..batches import apply_fetch, event_of, registered


async def test_a_fetch_of_registrations_makes_leads_of_the_leads_only(stack: Stack, db: asyncpg.Connection) -> None:
    web_lead, imported_lead, prospect = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    events = [
        event_of(registered(web_lead, stage="lead", owner_id="owner-1")),
        event_of(registered(prospect, stage="prospect")),
        event_of(registered(imported_lead, stage="lead", imported=True)),
        event_of(registered(web_lead, stage="lead", imported=True, owner_id="owner-2")),  # again: the first stays
    ]
    await apply_fetch(stack, "sales", handlers, events)

    async def projection() -> tuple[set, dict]:
        known = await db.fetch(
            "SELECT customer_id FROM known_customers WHERE customer_id = ANY($1)", [web_lead, imported_lead, prospect]
        )
        leads = await db.fetch(
            "SELECT customer_id, source, owner_id, status, version FROM leads WHERE customer_id = ANY($1)",
            [web_lead, imported_lead, prospect],
        )
        return {r["customer_id"] for r in known}, {r["customer_id"]: tuple(r)[1:] for r in leads}

    expected = (
        {web_lead, imported_lead, prospect},
        {web_lead: ("manual", "owner-1", "open", 1), imported_lead: ("import", None, "open", 1)},
    )
    assert await projection() == expected
    await apply_fetch(stack, "sales", handlers, events)  # a replay under a fresh inbox
    assert await projection() == expected
