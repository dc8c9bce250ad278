"""The catalogue's events, end to end: a product created and changed in the orders service
reaches the recommendations projection through the outbox, the relay and the broker."""

from __future__ import annotations

import uuid

from relacja_devstack import Stack

from ...support import eventually, service_client


async def test_a_created_and_deactivated_product_arrives_with_its_latest_version(stack: Stack, api, db) -> None:
    sku = f"CAT-{uuid.uuid4().hex[:10]}"
    async with service_client(stack, "orders", timeout=30) as orders:
        created = await orders.post(
            "/api/v1/products",
            json={
                "sku": sku,
                "name": "Espresso cups",
                "category": "kitchen",
                "list_price": "49.90",
                "unit_cost": "20.00",
                "currency": "PLN",
            },
        )
        assert created.status_code == 201, created.text
        product_id = uuid.UUID(created.json()["id"])
        changed = await orders.patch(
            f"/api/v1/products/{product_id}", json={"active": False}, headers={"If-Match": created.headers["ETag"]}
        )
        assert changed.status_code == 200, changed.text

    async def arrived():
        return await db.fetchrow("SELECT * FROM rec_products WHERE product_id = $1 AND version = 2", product_id)

    row = await eventually(arrived, timeout=90)
    assert (row["sku"], row["name"], row["category"], row["active"]) == (sku, "Espresso cups", "kitchen", False)
    assert (str(row["list_price"]), str(row["unit_cost"]), row["currency"]) == ("49.9000", "20.0000", "PLN")
    found = await api.get(f"/api/v1/recommendations/products/{product_id}/bought-together")
    assert found.status_code == 200 and found.json()["product"]["sku"] == sku
