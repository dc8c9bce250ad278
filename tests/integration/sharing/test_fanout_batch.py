"""The ``sharing.fanout`` batch path: a fetch's shareable events fanned out in one statement
per stretch between rectifications — the feed lists them in the events' order, with the
identifiers (here: e-mails from the same fetch's registrations) and fields one by one gives;
a redelivered fetch adds nothing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import asyncpg

from relacja_contracts.events import CustomerUpdatedV1, OrderPlacedV1
from relacja_devstack import Stack
from relacja_sharing.consumers import handlers
from relacja_sharing.domain.identifiers import new_pads

from ..batches import apply_fetch, event_of, registered
from ..tickets.test_customer_events import placed_order

REGISTERED = "relacja.customers.customer.registered.v1"
UPDATED = CustomerUpdatedV1.event_type
PLACED = OrderPlacedV1.event_type
RECTIFIED = "relacja.sharing.customer.rectified.v1"


async def _agreement_by_email(db: asyncpg.Connection) -> uuid.UUID:
    partner, agreement, pads = uuid.uuid4(), uuid.uuid4(), new_pads()
    await db.execute(
        "INSERT INTO sharing_partners (id, legal_name, status, pseudonym_ipad, pseudonym_opad, version) "
        "VALUES ($1, 'Batch S.A.', 'active', $2, $3, 1)",
        partner,
        pads.ipad,
        pads.opad,
    )
    allowed = {REGISTERED: ["display_name"], PLACED: ["order_number"], UPDATED: ["lifecycle_stage"]}
    await db.execute(
        "INSERT INTO sharing_agreements (id, partner_id, name, status, version, purposes, direction, legal_basis, "
        "identifier, allowed_fields, valid_from, min_group_size) VALUES ($1, $2, 'batch', 'active', 1, "
        "'[\"x\"]', 'outbound', 'contract', 'email', $3::jsonb, now() - interval '1 day', 2)",
        agreement,
        partner,
        json.dumps(allowed),
    )
    return agreement


def updated(customer_id: uuid.UUID) -> CustomerUpdatedV1:
    return CustomerUpdatedV1(
        customer_id=customer_id,
        changed_fields=["lifecycle_stage"],
        lifecycle_stage="customer",
        tags=[],
        version=2,
        updated_at=datetime.now(UTC),
    )


async def test_a_fetch_is_fanned_out_in_order_with_rectifications_between(stack: Stack, db: asyncpg.Connection) -> None:
    agreement = await _agreement_by_email(db)
    try:
        first, second, unknown = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        now = datetime.now(UTC)
        events = [
            event_of(registered(first, email=f"{first.hex}@example.com")),
            event_of(placed_order(first, now)),
            event_of(updated(first)),  # a rectification, on its own between two stretches
            event_of(placed_order(first, now)),
            event_of(registered(second, email=f"{second.hex}@example.com")),
            event_of(placed_order(second, now)),
            event_of(placed_order(unknown, now)),  # no e-mail known: no identifier, no record
        ]
        group = await apply_fetch(stack, "sharing", handlers, events)

        async def feed() -> list[tuple]:
            rows = await db.fetch(
                "SELECT kind, event_type, identifier, fields, cloud_event FROM sharing_feed_records "
                "WHERE agreement_id = $1 ORDER BY position",
                agreement,
            )
            return [
                (
                    r["kind"],
                    r["event_type"],
                    r["identifier"],
                    json.loads(r["fields"]),
                    json.loads(r["cloud_event"])["data"],
                )
                for r in rows
            ]

        a, b = f"{first.hex}@example.com", f"{second.hex}@example.com"
        order = [p for _, p in events if isinstance(p, OrderPlacedV1)]
        expected = [
            ("record", REGISTERED, a, ["display_name"], {"display_name": "Batch Test"}),
            ("record", PLACED, a, ["order_number"], {"order_number": order[0].order_number}),
            ("rectification", RECTIFIED, a, ["lifecycle_stage"], {"lifecycle_stage": "customer"}),
            ("record", PLACED, a, ["order_number"], {"order_number": order[1].order_number}),
            ("record", REGISTERED, b, ["display_name"], {"display_name": "Batch Test"}),
            ("record", PLACED, b, ["order_number"], {"order_number": order[2].order_number}),
        ]
        assert await feed() == expected
        recipients = await db.fetch(
            "SELECT customer_id, identifier FROM sharing_recipients WHERE agreement_id = $1", agreement
        )
        assert {(r["customer_id"], r["identifier"]) for r in recipients} == {(first, a), (second, b)}

        await apply_fetch(stack, "sharing", handlers, events, group=group)  # redelivered: the inbox skips it
        assert await feed() == expected
    finally:
        await db.execute("UPDATE sharing_agreements SET status = 'terminated' WHERE id = $1", agreement)
