"""Helpers of the orders integration tests (fixtures are in ``conftest.py``)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import httpx

from ...support import eventually


def problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


async def known_customer(customers_api: httpx.AsyncClient, api: httpx.AsyncClient, **fields: Any) -> str:
    """A new customer in the customers service, once the orders service has learnt of it."""
    body = {"kind": "person", "given_name": "Anna", "family_name": "Test" + uuid.uuid4().hex[:8], **fields}
    created = await customers_api.post("/api/v1/customers", json=body)
    assert created.status_code == 201, created.text
    customer_id = created.json()["id"]

    async def known() -> bool:
        return (await api.get(f"/api/v1/orders/customers/{customer_id}/summary")).status_code == 200

    await eventually(known, timeout=30)
    return customer_id


async def new_product(api: httpx.AsyncClient, **fields: Any) -> dict:
    body = {
        "sku": "SKU-" + uuid.uuid4().hex[:10].upper(),
        "name": "Kubek",
        "category": "kitchen",
        "list_price": "10.00",
        "unit_cost": "4.00",
        "tax_rate": "0.23",
        "currency": "PLN",
        **fields,
    }
    response = await api.post("/api/v1/products", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def place(api: httpx.AsyncClient, customer_id: str, lines: list[dict], **fields: Any) -> dict:
    response = await api.post(
        "/api/v1/orders",
        json={"customer_id": customer_id, "channel": "web", "currency": "PLN", "lines": lines, **fields},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def outbox_events(db: asyncpg.Connection, order_id: str) -> list[tuple[str, dict]]:
    """(short type, payload) of the order's events in the outbox, oldest first."""
    rows = await db.fetch(
        "SELECT event_type, payload FROM outbox_events WHERE payload->>'order_id' = $1 ORDER BY id", order_id
    )
    return [(row["event_type"].split(".")[-2], json.loads(row["payload"])) for row in rows]
