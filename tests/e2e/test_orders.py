"""The orders service end to end through the gateway: catalog, an order's whole life with
idempotent retries and illegal transitions, a return (and an over-return), a historical
import with bad rows, the customer projection, the customer-360 order summary, and every
event on relacja.orders."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from relacja_contracts.events.orders import OrderPlacedV1, OrderReturnedV1
from relacja_contracts.topics import ORDERS
from relacja_devstack import Stack

from ..support import event_types, eventually, read_topic

SCOPES = ["customers:read", "customers:write", "orders:read", "orders:write"]


@pytest.fixture
async def shop(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {stack.token(SCOPES)}"}
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers=headers, timeout=30) as client:
        yield client


def problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


async def customer_known_to_orders(shop: httpx.AsyncClient, **fields: object) -> str:
    created = await shop.post(
        "/api/v1/customers",
        json={"kind": "person", "given_name": "Ewa", "family_name": "E2e" + uuid.uuid4().hex[:8], **fields},
    )
    assert created.status_code == 201, created.text
    customer_id = created.json()["id"]

    async def known() -> bool:
        return (await shop.get(f"/api/v1/orders/customers/{customer_id}/summary")).status_code == 200

    await eventually(known, timeout=30)
    return customer_id


async def test_an_order_from_catalog_to_return_with_its_events(stack: Stack, shop: httpx.AsyncClient) -> None:
    customer = await customer_known_to_orders(shop)
    sku = "E2E-" + uuid.uuid4().hex[:8].upper()
    product = await shop.post(
        "/api/v1/products",
        json={
            "sku": sku,
            "name": "Czajnik",
            "category": "kitchen",
            "list_price": "100.00",
            "unit_cost": "60.00",
            "tax_rate": "0.23",
            "currency": "PLN",
        },
    )
    assert product.status_code == 201, product.text
    assert [p["sku"] for p in (await shop.get("/api/v1/products", params={"q": sku})).json()["items"]] == [sku]

    body = {
        "customer_id": customer,
        "channel": "partner",
        "currency": "PLN",
        "lines": [{"sku": sku, "quantity": 2, "discount_percent": "5"}],
    }
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await shop.post("/api/v1/orders", json=body, headers=key)
    retry = await shop.post("/api/v1/orders", json=body, headers=key)
    assert first.status_code == retry.status_code == 201 and first.json() == retry.json()
    assert retry.headers.get("idempotent-replayed") == "true"
    assert problem(await shop.post("/api/v1/orders", json=body | {"channel": "web"}, headers=key), 422)[
        "type"
    ].endswith("idempotency-key-reused")
    order = first.json()
    assert (order["gross_amount"], order["tax_amount"], order["total_amount"]) == ("190.00", "43.70", "233.70")
    url = f"/api/v1/orders/{order['id']}"

    illegal = problem(await shop.post(f"{url}/fulfill"), 409)
    assert illegal["current_status"] == "placed" and "placed" in illegal["detail"]
    problem(await shop.post(f"{url}/pay", headers={"If-Match": '"9"'}), 412)
    for step, etag in (("pay", '"1"'), ("fulfill", '"2"'), ("deliver", '"3"')):
        moved = await shop.post(f"{url}/{step}", headers={"If-Match": etag})
        assert moved.status_code == 200, moved.text
    assert problem(await shop.post(f"{url}/cancel"), 409)["current_status"] == "delivered"

    over = problem(await shop.post(f"{url}/returns", json={"lines": [{"line_no": 1, "quantity": 3}]}), 422)
    assert over["type"].endswith("return-exceeds-purchase")
    ret = (
        await shop.post(f"{url}/returns", json={"lines": [{"line_no": 1, "quantity": 1}], "reason": "dented"})
    ).json()
    accepted = await shop.post(f"{url}/returns/{ret['id']}/accept")
    assert accepted.status_code == 200 and accepted.json()["refund_amount"] == "116.85"
    after = (await shop.get(url)).json()
    assert (after["net_amount"], after["cost_amount"], after["margin"]) == ("95.00", "60.00", "35.00")

    # The relay publishes the outbox asynchronously: read until the return (the last write) is there.
    records = await read_topic(
        stack.bootstrap_servers,
        ORDERS.name,
        header="ce_subject",
        values={customer},
        until=lambda found: OrderReturnedV1.event_type in event_types(found),
    )
    mine = [r for r in records if json.loads(r.value)["order_id"] == order["id"]]
    types = [dict(r.headers)["ce_type"].decode().split(".")[-2] for r in mine]
    assert types == ["placed", "paid", "fulfilled", "delivered", "returned"]
    assert all(r.key.decode() == customer for r in mine)
    placed = OrderPlacedV1.model_validate_json(mine[0].value)
    assert (
        placed.channel == "partner" and placed.lines[0].unit_cost is not None and placed.lines[0].category == "kitchen"
    )
    returned = OrderReturnedV1.model_validate_json(mine[-1].value)
    assert returned.net_amount == Decimal(after["net_amount"]) and returned.margin == Decimal("35.00")

    async def view_with_orders() -> dict | None:  # a part may miss its 300 ms deadline on a busy machine
        body = (await shop.get(f"/api/v1/customers/{customer}/360")).json()
        return body if body["orders"] is not None else None

    view = await eventually(view_with_orders)
    assert view["orders"]["order_count"] == 1 and view["orders"]["last_orders"][0]["id"] == order["id"]
    assert view["orders"]["totals"] == [
        {
            "currency": "PLN",
            "order_count": 1,
            "gross_amount": "190.00",
            "net_amount": "95.00",
            "refunded_amount": "116.85",
        }
    ]


async def test_import_with_bad_rows_and_the_customer_projection(stack: Stack, shop: httpx.AsyncClient) -> None:
    tag = uuid.uuid4().hex[:8]
    customer = await customer_known_to_orders(shop, external_id=f"legacy-{tag}")
    csv = (
        "\n".join(
            [
                "external_id,customer_external_id,placed_at,total_amount,currency",
                f"h1-{tag},legacy-{tag},2017-06-01T09:00:00Z,250.00,PLN",
                f"h2-{tag},legacy-unknown-{tag},2017-06-02T09:00:00Z,80.00,PLN",
                f"h3-{tag},legacy-{tag},yesterday,80.00,PLN",
            ]
        )
        + "\n"
    )
    response = await shop.post("/api/v1/orders/imports", content=csv.encode(), headers={"Content-Type": "text/csv"})
    assert response.status_code == 202, response.text
    job = response.json()
    assert (job["rows_total"], job["rows_created"], job["rows_failed"]) == (3, 1, 2)
    assert [(e["row"], e["field"]) for e in job["errors"]] == [(3, "customer_external_id"), (4, "placed_at")]
    assert (await shop.get(f"/api/v1/orders/imports/{job['id']}")).json()["status"] == "completed"

    [imported] = (await shop.get("/api/v1/orders", params={"customer_id": customer})).json()["items"]
    records = await read_topic(stack.bootstrap_servers, ORDERS.name, header="ce_subject", values={customer})
    [event] = [json.loads(r.value) for r in records if json.loads(r.value)["order_id"] == imported["id"]]
    assert (
        event["imported"] is True and event["placed_at"] == "2017-06-01T09:00:00Z" and event["total_amount"] == "250.00"
    )

    # Erasure in the customers service: personal data leaves the orders, and new orders are refused.
    assert (await shop.post(f"/api/v1/customers/{customer}/erase")).status_code == 200

    async def refused() -> dict | None:
        answer = await shop.post(
            "/api/v1/orders",
            json={
                "customer_id": customer,
                "channel": "web",
                "currency": "PLN",
                "lines": [{"sku": "ANY", "quantity": 1}],
            },
        )
        return (
            answer.json() if answer.status_code == 422 and answer.json()["type"].endswith("customer-erased") else None
        )

    await eventually(refused, timeout=30)


async def test_orders_need_their_scopes(stack: Stack) -> None:
    headers = {"Authorization": f"Bearer {stack.token(['orders:read'])}"}
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers=headers, timeout=10) as reader:
        assert (await reader.get("/api/v1/products")).status_code == 200
        assert (await reader.post("/api/v1/products", json={})).status_code == 403
        assert (await reader.post("/api/v1/orders", json={})).status_code == 403
