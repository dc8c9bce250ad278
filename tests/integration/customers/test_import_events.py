"""The import's CustomerRegisteredV1 events, built by PostgreSQL (``app.imports._REGISTERED``):
each new customer's outbox row and event-log row carry the payload the live path's
``records.registered_event`` would write, with the outbox's usual envelope."""

from __future__ import annotations

import json
import uuid

import asyncpg
import httpx

from relacja_contracts import from_kafka_headers, to_kafka_headers
from relacja_contracts.events import CustomerRegisteredV1
from relacja_customers.app.records import registered_event

IMPORTS = "/api/v1/customers/imports"


async def test_imported_customers_registered_events_are_the_live_paths(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    p = f"ev-{uuid.uuid4().hex[:8]}-"
    rows = [
        {
            "external_id": f"{p}1",
            "given_name": "Zofia",
            "family_name": "Łęcka",
            "email": f"Zofia.Lecka.{p}@Example.COM",
            "tags": ["vip", "b2b"],
            "owner_id": "agent-7",
            "lifecycle_stage": "prospect",
        },
        {"external_id": f"{p}2", "kind": "company", "legal_name": "Łąka Sp. z o.o."},
        {"external_id": f"{p}3", "given_name": "Jan", "family_name": "Nowak", "phone": "+48 600 100 200"},
    ]
    body = "".join(json.dumps(row) + "\n" for row in rows).encode()
    response = await api.post(IMPORTS, content=body, headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code == 202 and response.json()["rows_created"] == 3, response.text

    stored = await db.fetch("SELECT * FROM customers WHERE external_id LIKE $1 ORDER BY external_id", p + "%")
    assert len(stored) == 3
    for customer in stored:
        expected = registered_event(dict(customer), imported=True).model_dump(mode="json")
        outbox = await db.fetchrow(
            "SELECT * FROM outbox_events WHERE key = $1 AND event_type = $2",
            str(customer["id"]),
            CustomerRegisteredV1.event_type,
        )
        logged = await db.fetchrow(
            "SELECT * FROM customer_event_log WHERE customer_id = $1 AND event_type = $2",
            customer["id"],
            CustomerRegisteredV1.event_type,
        )
        assert outbox is not None and logged is not None
        assert json.loads(outbox["payload"]) == expected == json.loads(logged["payload"])
        assert outbox["event_id"] == logged["event_id"] and outbox["topic"] == "relacja.customers"
        headers = json.loads(outbox["headers"])
        envelope = from_kafka_headers([(name, value.encode()) for name, value in headers])
        assert envelope.id == str(outbox["event_id"]) and envelope.subject == str(customer["id"])
        assert envelope.source == "/relacja/customers" and envelope.time == logged["occurred_at"]
        assert [name for name, _ in headers] == [name for name, _ in to_kafka_headers(envelope)]
