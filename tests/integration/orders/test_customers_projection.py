"""The customers projection: merges re-key orders, erasure removes personal data and
blocks new orders; and the per-customer summary the customer-360 view shows."""

from __future__ import annotations

import uuid

import asyncpg
import httpx

from ...support import eventually
from .support import known_customer, new_product, place, problem


async def test_merge_rekeys_orders_and_blocks_the_merged_id(
    api: httpx.AsyncClient, customers_api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    survivor = await known_customer(customers_api, api)
    other = await known_customer(customers_api, api)
    mug = await new_product(api)
    order = await place(api, other, [{"sku": mug["sku"], "quantity": 1}])

    version = (await customers_api.get(f"/api/v1/customers/{survivor}")).headers["etag"]
    merged = await customers_api.post(
        f"/api/v1/customers/{survivor}/merge", json={"merge_customer_id": other}, headers={"If-Match": version}
    )
    assert merged.status_code == 200, merged.text

    async def rekeyed() -> bool:
        return (await api.get(f"/api/v1/orders/{order['id']}")).json()["customer_id"] == survivor

    await eventually(rekeyed, timeout=30)
    assert (await api.get(f"/api/v1/orders/customers/{survivor}/summary")).json()["order_count"] == 1
    refused = problem(
        await api.post(
            "/api/v1/orders",
            json={
                "customer_id": other,
                "channel": "web",
                "currency": "PLN",
                "lines": [{"sku": mug["sku"], "quantity": 1}],
            },
        ),
        422,
    )
    assert refused["type"].endswith("customer-merged") and refused["merged_into"] == survivor
    # Re-keying is not a change of the order's facts: no new event (see projection.py).
    assert await db.fetchval("SELECT count(*) FROM outbox_events WHERE payload->>'order_id' = $1", order["id"]) == 1


async def test_erasure_removes_personal_data_and_blocks_orders(
    api: httpx.AsyncClient, customers_api: httpx.AsyncClient
) -> None:
    customer = await known_customer(customers_api, api)
    mug = await new_product(api)
    order = await place(
        api,
        customer,
        [{"sku": mug["sku"], "quantity": 1}],
        note="leave at the door",
        shipping_address={"name": "Anna", "line1": "Polna 1", "city": "Kraków", "country": "PL"},
    )
    assert order["shipping_address"]["line1"] == "Polna 1"
    erased = await customers_api.post(f"/api/v1/customers/{customer}/erase")
    assert erased.status_code in (200, 202, 204), erased.text

    async def scrubbed() -> dict | None:
        body = (await api.get(f"/api/v1/orders/{order['id']}")).json()
        return body if body["shipping_address"] is None and body["note"] is None else None

    kept = await eventually(scrubbed, timeout=30)
    assert kept["total_amount"] == order["total_amount"] and kept["lines"] == order["lines"]  # sales facts stay
    refused = problem(
        await api.post(
            "/api/v1/orders",
            json={
                "customer_id": customer,
                "channel": "web",
                "currency": "PLN",
                "lines": [{"sku": mug["sku"], "quantity": 1}],
            },
        ),
        422,
    )
    assert refused["type"].endswith("customer-erased")


async def test_summary_counts_totals_per_currency_and_lists_the_last_five(
    api: httpx.AsyncClient, customers_api: httpx.AsyncClient
) -> None:
    customer = await known_customer(customers_api, api)
    empty = (await api.get(f"/api/v1/orders/customers/{customer}/summary")).json()
    assert (
        empty["order_count"] == 0
        and empty["totals"] == []
        and empty["last_orders"] == []
        and empty["first_order_at"] is None
    )

    pln = await new_product(api, list_price="10.00", tax_rate="0.23")
    eur = await new_product(api, list_price="2.50", tax_rate="0", currency="EUR")
    orders = [await place(api, customer, [{"sku": pln["sku"], "quantity": n}]) for n in range(1, 6)]
    orders.append(await place(api, customer, [{"sku": eur["sku"], "quantity": 2}], currency="EUR"))
    await api.post(f"/api/v1/orders/{orders[0]['id']}/cancel")

    summary = (await api.get(f"/api/v1/orders/customers/{customer}/summary")).json()
    assert summary["order_count"] == 6
    assert summary["first_order_at"] == orders[0]["placed_at"] and summary["last_order_at"] == orders[-1]["placed_at"]
    assert summary["totals"] == [
        {"currency": "EUR", "order_count": 1, "gross_amount": "5.00", "net_amount": "5.00", "refunded_amount": "0.00"},
        {
            "currency": "PLN",
            "order_count": 5,
            "gross_amount": "140.00",
            "net_amount": "140.00",
            "refunded_amount": "0.00",
        },
    ]
    assert [o["id"] for o in summary["last_orders"]] == [o["id"] for o in reversed(orders[1:])]
    assert summary["last_orders"][0] == {
        "id": orders[-1]["id"],
        "number": orders[-1]["number"],
        "status": "placed",
        "placed_at": orders[-1]["placed_at"],
        "total_amount": "5.00",
        "currency": "EUR",
    }
    problem(await api.get(f"/api/v1/orders/customers/{uuid.uuid4()}/summary"), 404)
