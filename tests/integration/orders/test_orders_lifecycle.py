"""Catalog, placing orders, idempotent retries, the status machine and its events,
against the real PostgreSQL and broker of the test stack."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import httpx

from relacja_contracts.events.orders import OrderPlacedV1
from relacja_orders.app.events import snapshot

from .support import known_customer, new_product, outbox_events, place, problem


async def test_catalog_create_search_patch_with_if_match(api: httpx.AsyncClient) -> None:
    word = uuid.uuid4().hex[:8].upper()
    mug = await new_product(api, sku=f"MUG-{word}", name="Mug blue", list_price="19.99")
    await new_product(api, sku=f"PLATE-{word}", name="Plate", active=False)
    assert mug["list_price"] == "19.99" and mug["tax_rate"] == "0.23"

    duplicate = problem(
        await api.post("/api/v1/products", json={"sku": mug["sku"], "name": "x", "list_price": "1", "currency": "PLN"}),
        409,
    )
    assert duplicate["existing_id"] == mug["id"]
    scale = problem(
        await api.post(
            "/api/v1/products", json={"sku": f"X-{word}", "name": "x", "list_price": "1.999", "currency": "PLN"}
        ),
        422,
    )
    assert "list_price" in str(scale["errors"])

    found = (await api.get("/api/v1/products", params={"q": word.lower(), "active": "true"})).json()
    assert [p["sku"] for p in found["items"]] == [mug["sku"]]
    page1 = (await api.get("/api/v1/products", params={"q": word, "limit": 1})).json()
    page2 = (await api.get("/api/v1/products", params={"q": word, "limit": 1, "cursor": page1["next_cursor"]})).json()
    assert [p["sku"] for p in page1["items"] + page2["items"]] == [mug["sku"], f"PLATE-{word}"] and page2[
        "next_cursor"
    ] is None

    url = f"/api/v1/products/{mug['id']}"
    problem(await api.patch(url, json={"list_price": "25.00"}), 428)
    changed = await api.patch(url, json={"list_price": "25.00"}, headers={"If-Match": '"1"'})
    assert changed.status_code == 200 and changed.headers["etag"] == '"2"' and changed.json()["list_price"] == "25.00"
    problem(await api.patch(url, json={"name": "y"}, headers={"If-Match": '"1"'}), 412)
    problem(await api.get("/api/v1/products", params={"colour": "blue"}), 400)


async def test_order_is_priced_by_the_service_and_price_changes_do_not_rewrite_it(
    api: httpx.AsyncClient, customers_api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    customer = await known_customer(customers_api, api)
    mug = await new_product(api, list_price="10.00", unit_cost="4.00", tax_rate="0.23", category="kitchen")
    pen = await new_product(api, list_price="3.33", unit_cost=None, tax_rate="0.08", category="office")
    order = await place(
        api,
        customer,
        [{"product_id": mug["id"], "quantity": 3, "discount_percent": "10"}, {"sku": pen["sku"], "quantity": 1}],
        shipping_address={"line1": "Polna 1", "city": "Kraków", "country": "PL"},
    )
    # mug: 30.00 − 3.00 = 27.00, tax 6.21; pen: 3.33, tax 0.27 (0.2664 rounded half-up)
    assert [line["line_amount"] for line in order["lines"]] == ["27.00", "3.33"]
    assert [line["tax_amount"] for line in order["lines"]] == ["6.21", "0.27"]
    assert order["gross_amount"] == "30.33" and order["tax_amount"] == "6.48" and order["total_amount"] == "36.81"
    assert (
        order["net_amount"] == "30.33" and order["cost_amount"] is None and order["margin"] is None
    )  # the pen's cost is unknown
    assert order["status"] == "placed" and order["number"].startswith("O-")

    client_total = await api.post(
        "/api/v1/orders",
        json={
            "customer_id": customer,
            "channel": "web",
            "currency": "PLN",
            "lines": [{"sku": mug["sku"], "quantity": 1}],
            "total_amount": "0.01",
        },
    )
    assert "total_amount" in str(problem(client_total, 422)["errors"])

    await api.patch(f"/api/v1/products/{mug['id']}", json={"list_price": "99.00"}, headers={"If-Match": '"1"'})
    again = (await api.get(f"/api/v1/orders/{order['id']}")).json()
    assert again["lines"][0]["unit_price"] == "10.00" and again["total_amount"] == "36.81"

    [(kind, payload)] = await outbox_events(db, order["id"])
    assert kind == "placed" and payload["customer_id"] == customer and payload["channel"] == "web"
    assert payload["lines"][0] == {
        "line_no": 1,
        "product_id": mug["id"],
        "sku": mug["sku"],
        "category": "kitchen",
        "quantity": 3,
        "unit_price": "10.00",
        "unit_cost": "4.00",
        "discount_amount": "3.00",
        "line_amount": "27.00",
        "returned_quantity": 0,
    }
    key = await db.fetchval("SELECT key FROM outbox_events WHERE payload->>'order_id' = $1", order["id"])
    assert key == customer
    # PostgreSQL builds the placed event's payload (one statement with the order): exactly
    # what the event class writes from the stored row.
    row = await db.fetchrow("SELECT * FROM orders WHERE id = $1", uuid.UUID(order["id"]))
    assert row is not None
    stored = dict(row)
    stored["lines"] = json.loads(stored["lines"])
    written = OrderPlacedV1.model_validate(snapshot(stored) | {"occurred_at": payload["occurred_at"]})
    assert payload == json.loads(written.model_dump_json())


async def test_bad_orders_are_refused_clearly(api: httpx.AsyncClient, customers_api: httpx.AsyncClient) -> None:
    customer = await known_customer(customers_api, api)
    mug = await new_product(api)
    euro = await new_product(api, currency="EUR")
    inactive = await new_product(api, active=False)
    unknown = problem(
        await api.post(
            "/api/v1/orders",
            json={
                "customer_id": str(uuid.uuid4()),
                "channel": "web",
                "currency": "PLN",
                "lines": [{"sku": mug["sku"], "quantity": 1}],
            },
        ),
        422,
    )
    assert unknown["type"].endswith("unknown-customer")
    lines = [
        {"sku": euro["sku"], "quantity": 1},
        {"product_id": inactive["id"], "quantity": 1},
        {"sku": "NOPE-" + uuid.uuid4().hex, "quantity": 1},
    ]
    bad = problem(
        await api.post(
            "/api/v1/orders", json={"customer_id": customer, "channel": "web", "currency": "PLN", "lines": lines}
        ),
        422,
    )
    messages = [e["message"] for e in bad["errors"]]
    assert "priced in EUR" in messages[0] and "not active" in messages[1] and messages[2] == "no such product"
    both = problem(
        await api.post(
            "/api/v1/orders",
            json={
                "customer_id": customer,
                "channel": "fax",
                "currency": "PLN",
                "lines": [{"sku": mug["sku"], "product_id": mug["id"], "quantity": 0}],
            },
        ),
        422,
    )
    assert {e["field"] for e in both["errors"]} >= {"body.channel", "body.lines.0.quantity"}


async def test_idempotent_retries(
    api: httpx.AsyncClient, customers_api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    customer = await known_customer(customers_api, api)
    mug = await new_product(api)
    body = {
        "customer_id": customer,
        "channel": "phone",
        "currency": "PLN",
        "lines": [{"sku": mug["sku"], "quantity": 2}],
    }
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first, second = await asyncio.gather(
        api.post("/api/v1/orders", json=body, headers=key), api.post("/api/v1/orders", json=body, headers=key)
    )
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert "true" in {first.headers.get("idempotent-replayed"), second.headers.get("idempotent-replayed")}
    other = problem(await api.post("/api/v1/orders", json=body | {"channel": "web"}, headers=key), 422)
    assert other["type"].endswith("idempotency-key-reused")
    assert await db.fetchval("SELECT count(*) FROM orders WHERE customer_id = $1", uuid.UUID(customer)) == 1
    assert len(await outbox_events(db, first.json()["id"])) == 1


async def test_status_machine_events_and_illegal_transitions(
    api: httpx.AsyncClient, customers_api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    customer = await known_customer(customers_api, api)
    mug = await new_product(api, list_price="10.00", unit_cost="4.00", tax_rate="0.23")
    order = await place(api, customer, [{"sku": mug["sku"], "quantity": 2}])
    url = f"/api/v1/orders/{order['id']}"

    early = problem(await api.post(f"{url}/deliver"), 409)
    assert (
        early["current_status"] == "placed"
        and "placed" in early["detail"]
        and early["type"].endswith("illegal-transition")
    )
    assert early["action"] == "deliver" and early["allowed_actions"] == ["pay", "cancel"]
    weak = problem(
        await api.post(f"{url}/pay", headers={"If-Match": 'W/"1"'}), 412
    )  # RFC 9110: a weak tag never matches
    assert weak["type"].endswith("precondition-failed")
    problem(await api.post(f"{url}/pay", json={"payment_reference": "PAY-1"}, headers={"If-Match": '"7"'}), 412)
    paid = await api.post(f"{url}/pay", json={"payment_reference": "PAY-1"}, headers={"If-Match": '"1"'})
    assert paid.status_code == 200 and paid.headers["etag"] == '"2"' and paid.json()["status"] == "paid"
    assert problem(await api.post(f"{url}/pay"), 409)["current_status"] == "paid"
    assert (await api.post(f"{url}/fulfill")).json()["status"] == "fulfilled"
    assert problem(await api.post(f"{url}/cancel"), 409)["current_status"] == "fulfilled"
    delivered = (await api.post(f"{url}/deliver")).json()
    assert delivered["status"] == "delivered" and delivered["version"] == 4

    events = await outbox_events(db, order["id"])
    assert [kind for kind, _ in events] == ["placed", "paid", "fulfilled", "delivered"]
    assert events[1][1]["payment_reference"] == "PAY-1" and events[3][1]["status"] == "delivered"
    assert events[3][1]["margin"] == "12.00" and events[3][1]["cost_amount"] == "8.00"

    problem(await api.post(f"/api/v1/orders/{uuid.uuid4()}/pay"), 404)


async def test_cancellations_refund_only_what_was_paid(
    api: httpx.AsyncClient, customers_api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    customer = await known_customer(customers_api, api)
    mug = await new_product(api, list_price="10.00", unit_cost="4.00", tax_rate="0.23")
    unpaid = await place(api, customer, [{"sku": mug["sku"], "quantity": 1}])
    paid = await place(api, customer, [{"sku": mug["sku"], "quantity": 1}])
    await api.post(f"/api/v1/orders/{paid['id']}/pay")

    a = (await api.post(f"/api/v1/orders/{unpaid['id']}/cancel", json={"reason": "changed mind"})).json()
    b = (await api.post(f"/api/v1/orders/{paid['id']}/cancel")).json()
    assert a["status"] == b["status"] == "cancelled" and a["cancel_reason"] == "changed mind"
    assert a["refunded_amount"] == "0.00" and b["refunded_amount"] == "12.30"
    assert a["net_amount"] == b["net_amount"] == "0.00" and b["gross_amount"] == "10.00"
    [*_, (kind, event)] = await outbox_events(db, paid["id"])
    assert kind == "cancelled" and event["cancelled_from"] == "paid" and event["refund_amount"] == "12.30"
    assert problem(await api.post(f"/api/v1/orders/{paid['id']}/pay"), 409)["current_status"] == "cancelled"


async def test_listing_filters_and_pages(api: httpx.AsyncClient, customers_api: httpx.AsyncClient) -> None:
    customer = await known_customer(customers_api, api)
    mug = await new_product(api)
    placed = [await place(api, customer, [{"sku": mug["sku"], "quantity": n}]) for n in (1, 2, 3)]
    await api.post(f"/api/v1/orders/{placed[1]['id']}/pay")
    listed = (await api.get("/api/v1/orders", params={"customer_id": customer, "limit": 2})).json()
    rest = (
        await api.get("/api/v1/orders", params={"customer_id": customer, "limit": 2, "cursor": listed["next_cursor"]})
    ).json()
    assert [o["id"] for o in listed["items"] + rest["items"]] == [o["id"] for o in reversed(placed)]
    paid = (await api.get("/api/v1/orders", params={"customer_id": customer, "status": "paid"})).json()["items"]
    assert [o["id"] for o in paid] == [placed[1]["id"]]
    window = (
        await api.get(
            "/api/v1/orders",
            params={
                "customer_id": customer,
                "placed_after": placed[1]["placed_at"],
                "placed_before": placed[2]["placed_at"],
            },
        )
    ).json()["items"]
    assert [o["id"] for o in window] == [placed[1]["id"]]
    problem(await api.get("/api/v1/orders", params={"status": "lost"}), 400)
    problem(await api.get("/api/v1/orders", params={"cursor": "garbage"}), 400)
