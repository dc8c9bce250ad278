"""Helpers of the loyalty integration and end-to-end tests (fixtures are in ``conftest.py``)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx

from ...support import eventually

__all__ = [
    "assert_ledger_sums",
    "customer",
    "enrol",
    "member",
    "new_product",
    "order_paid",
    "programme",
    "wait_balance",
]


async def customer(customers_api: httpx.AsyncClient) -> str:
    body = {"kind": "person", "given_name": "Ola", "family_name": "Lojalna" + uuid.uuid4().hex[:8]}
    created = await customers_api.post("/api/v1/customers", json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def programme(api: httpx.AsyncClient, **fields: Any) -> dict:
    body = {
        "name": "Klub " + uuid.uuid4().hex[:6],
        # A currency of its own per programme: the orders of other tests (PLN) never reach it.
        "currency": fields.pop("currency", "PLN"),
        "points_per_unit": "1",
        "pending_period_seconds": 0,
        **fields,
    }
    response = await api.post("/api/v1/loyalty/programmes", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def enrol(api: httpx.AsyncClient, programme_id: str, customer_id: str) -> dict:
    response = await api.post(
        "/api/v1/loyalty/members", json={"programme_id": programme_id, "customer_id": customer_id}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def member(api: httpx.AsyncClient, member_id: str) -> dict:
    response = await api.get(f"/api/v1/loyalty/members/{member_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def new_product(orders_api: httpx.AsyncClient, price: str, currency: str = "PLN") -> dict:
    body = {
        "sku": "LOY-" + uuid.uuid4().hex[:10].upper(),
        "name": "Kawa",
        "category": "coffee",
        "list_price": price,
        "unit_cost": "1.00",
        "tax_rate": "0.23",
        "currency": currency,
    }
    response = await orders_api.post("/api/v1/products", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def order_paid(
    orders_api: httpx.AsyncClient, customer_id: str, product_id: str, quantity: int, currency: str = "PLN"
) -> dict:
    placed = await orders_api.post(
        "/api/v1/orders",
        json={
            "customer_id": customer_id,
            "channel": "web",
            "currency": currency,
            "lines": [{"product_id": product_id, "quantity": quantity}],
        },
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    paid = await orders_api.post(f"/api/v1/orders/{order['id']}/pay", json={"payment_reference": "T-1"})
    assert paid.status_code == 200, paid.text
    return paid.json()


async def assert_ledger_sums(db: asyncpg.Connection, member_id: str) -> None:
    """The member row's balance is the sum of its ledger; no lot is negative."""
    row = await db.fetchrow(
        "SELECT m.balance, coalesce(sum(l.points), 0) AS total, min(l.remaining) AS lowest "
        "FROM loyalty_members m LEFT JOIN loyalty_ledger l ON l.member_id = m.id WHERE m.id = $1 GROUP BY m.balance",
        uuid.UUID(member_id),
    )
    assert row is not None
    assert row["balance"] == row["total"], dict(row)
    assert row["lowest"] is None or row["lowest"] >= 0


async def wait_balance(api: httpx.AsyncClient, member_id: str, balance: int, timeout: float = 60) -> dict:
    async def reached() -> dict | None:
        found = await member(api, member_id)
        return found if found["balance"] == balance else None

    return await eventually(reached, timeout=timeout)
