"""Historical import: CSV and NDJSON, upsert by order external id, bad rows reported
(unknown customers never guessed), imported events, and the job resource."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import asyncpg
import httpx

from relacja_contracts import from_kafka_headers, to_kafka_headers
from relacja_contracts.events.orders import OrderPlacedV1
from relacja_orders.app.events import snapshot
from relacja_orders.tables import import_fingerprint_sql

from .support import known_customer, new_product, outbox_events, problem

IMPORTS = "/api/v1/orders/imports"


async def assert_event_is_the_live_snapshot(db: asyncpg.Connection, order_id: str, customer_id: str) -> None:
    """The outbox row PostgreSQL built for an imported order (bulk_events) is the one the
    live path (snapshot + Outbox.add) would write."""
    stored = await db.fetchrow("SELECT * FROM orders WHERE id = $1", uuid.UUID(order_id))
    outbox = await db.fetchrow(
        "SELECT * FROM outbox_events WHERE payload->>'order_id' = $1 ORDER BY id DESC LIMIT 1", order_id
    )
    assert stored is not None and outbox is not None
    payload, headers = json.loads(outbox["payload"]), json.loads(outbox["headers"])
    expected = snapshot(dict(stored) | {"lines": json.loads(stored["lines"])})
    assert {k: v for k, v in payload.items() if k != "occurred_at"} == expected
    assert OrderPlacedV1.model_validate(payload).model_dump(mode="json") == payload
    assert (
        outbox["key"] == customer_id
        and outbox["topic"] == "relacja.orders"
        and outbox["event_type"] == OrderPlacedV1.event_type
    )
    envelope = from_kafka_headers([(name, value.encode()) for name, value in headers])
    assert (
        envelope.id == str(outbox["event_id"])
        and envelope.subject == customer_id
        and envelope.source == "/relacja/orders"
    )
    assert [name for name, _ in headers] == [name for name, _ in to_kafka_headers(envelope)]
    assert envelope.time == datetime.fromisoformat(payload["occurred_at"])


async def test_csv_import_with_bad_rows_upserts_and_emits_imported_events(
    api: httpx.AsyncClient, customers_api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    tag = uuid.uuid4().hex[:8]
    anna = await known_customer(customers_api, api, external_id=f"crm-anna-{tag}")
    mug = await new_product(api, category="kitchen")
    lines = json.dumps(
        [
            {"sku": mug["sku"], "quantity": 2, "unit_price": "10.00", "unit_cost": "4.00"},
            {"sku": "OLD-ONLY", "quantity": 1, "unit_price": "5.00", "category": "legacy"},
        ]
    ).replace('"', '""')
    body = (
        "\n".join(
            [
                "external_id,customer_external_id,placed_at,total_amount,currency,channel,status,lines",
                f"o1-{tag},crm-anna-{tag},2019-03-04T10:00:00Z,99.90,PLN,store,delivered,",
                f'o2-{tag},crm-anna-{tag},2019-05-06 12:00:00,30.75,PLN,web,,"{lines}"',
                f"o3-{tag},crm-nobody-{tag},2019-05-06T12:00:00Z,10.00,PLN,,,",
                f"o4-{tag},crm-anna-{tag},not-a-date,10.00,PLN,,,",
                f"o5-{tag},crm-anna-{tag},2019-05-06T12:00:00Z,10.001,PLN,,,",
                f"o6-{tag},crm-anna-{tag},2019-05-06T12:00:00Z,10.00,PLN,fax,,",
                f'o7-{tag},crm-anna-{tag},2019-05-06T12:00:00Z,5.00,PLN,,,"{lines}"',
                "too,few,cells",
                f",crm-anna-{tag},2018-01-01T00:00:00+02:00,1.00,EUR,,cancelled,",
            ]
        )
        + "\n"
    )
    response = await api.post(IMPORTS, content=body.encode(), headers={"Content-Type": "text/csv"})
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] == "completed" and job["rows_total"] == 9
    assert (job["rows_created"], job["rows_updated"], job["rows_unchanged"], job["rows_failed"]) == (3, 0, 0, 6)
    errors = {e["row"]: e for e in job["errors"]}
    assert errors[4]["field"] == "customer_external_id" and f"crm-nobody-{tag}" in errors[4]["message"]
    assert (
        errors[5]["field"] == "placed_at" and errors[6]["field"] == "total_amount" and errors[7]["field"] == "channel"
    )
    assert errors[8]["field"] == "total_amount" and "less than the sum of the lines" in errors[8]["message"]
    assert errors[9]["field"] == "row"
    assert (await api.get(f"{IMPORTS}/{job['id']}")).json() == job
    assert (await api.get(IMPORTS, params={"limit": 1})).json()["items"][0]["id"] == job["id"]

    listed = (await api.get("/api/v1/orders", params={"customer_id": anna})).json()["items"]
    by_external = {o["external_id"]: o for o in listed}
    assert set(by_external) == {f"o1-{tag}", f"o2-{tag}", None}
    plain, with_lines, cancelled = by_external[f"o1-{tag}"], by_external[f"o2-{tag}"], by_external[None]
    assert (
        plain["imported"]
        and plain["status"] == "delivered"
        and plain["channel"] == "store"
        and plain["placed_at"] == "2019-03-04T10:00:00Z"
    )
    assert (
        plain["gross_amount"] == plain["total_amount"] == plain["net_amount"] == "99.90"
        and plain["margin"] is None
        and plain["lines"] == []
    )
    assert (
        with_lines["gross_amount"] == "25.00"
        and with_lines["tax_amount"] == "5.75"
        and with_lines["total_amount"] == "30.75"
    )
    assert [line["tax_amount"] for line in with_lines["lines"]] == ["4.60", "1.15"]
    assert with_lines["lines"][0]["product_id"] == mug["id"] and with_lines["lines"][0]["category"] == "kitchen"
    assert with_lines["lines"][1]["product_id"] is None and with_lines["lines"][1]["category"] == "legacy"
    assert with_lines["cost_amount"] is None  # the legacy line has no cost
    assert cancelled["status"] == "cancelled" and cancelled["net_amount"] == "0.00" and cancelled["currency"] == "EUR"

    [(kind, event)] = await outbox_events(db, with_lines["id"])
    assert (
        kind == "placed"
        and event["imported"] is True
        and event["external_id"] == f"o2-{tag}"
        and event["order_number"] == with_lines["number"]
    )
    for order in (plain, with_lines, cancelled):
        await assert_event_is_the_live_snapshot(db, order["id"], anna)

    # The same file again: nothing changes, nothing is emitted. A changed row updates its order.
    again = (await api.post(IMPORTS, content=body.encode(), headers={"Content-Type": "text/csv"})).json()
    assert (again["rows_created"], again["rows_updated"], again["rows_unchanged"], again["rows_failed"]) == (
        1,
        0,
        2,
        6,
    )  # the row without external_id is new again
    changed = body.replace("2019-03-04T10:00:00Z,99.90", "2019-03-04T10:00:00Z,89.90")
    third = (await api.post(IMPORTS, content=changed.encode(), headers={"Content-Type": "text/csv"})).json()
    assert (third["rows_created"], third["rows_updated"], third["rows_unchanged"]) == (1, 1, 1)
    events = await outbox_events(db, plain["id"])
    assert [e["total_amount"] for _, e in events] == ["99.90", "89.90"]
    assert (await api.get(f"/api/v1/orders/{plain['id']}")).json()["version"] == 2


async def test_ndjson_import_and_unreadable_bodies(api: httpx.AsyncClient, customers_api: httpx.AsyncClient) -> None:
    tag = uuid.uuid4().hex[:8]
    bob = await known_customer(customers_api, api, external_id=f"crm-bob-{tag}")
    rows = [
        {
            "external_id": f"n1-{tag}",
            "customer_external_id": f"crm-bob-{tag}",
            "placed_at": "2020-01-01T00:00:00Z",
            "total_amount": "12.00",
            "currency": "PLN",
        },
        {
            "external_id": f"n1-{tag}",
            "customer_external_id": f"crm-bob-{tag}",
            "placed_at": "2020-01-01T00:00:00Z",
            "total_amount": "13.00",
            "currency": "PLN",
        },
        {"customer_external_id": f"crm-bob-{tag}", "total_amount": "1"},
        {
            "customer_external_id": f"crm-bob-{tag}",
            "placed_at": "2020-01-01T00:00:00Z",
            "total_amount": "1",
            "currency": "PLN",
            "discount": "5",
        },
        # The deprecated names (ordered_at, total) are still accepted, but not beside the API's.
        {
            "external_id": f"n2-{tag}",
            "customer_external_id": f"crm-bob-{tag}",
            "ordered_at": "2020-02-01T00:00:00Z",
            "total": "7.00",
            "currency": "PLN",
        },
        {
            "customer_external_id": f"crm-bob-{tag}",
            "placed_at": "2020-01-01T00:00:00Z",
            "total_amount": "1",
            "total": "1",
            "currency": "PLN",
        },
    ]
    body = "\n".join(json.dumps(r) for r in rows) + "\n[1, 2]\n{broken\n"
    job = (await api.post(IMPORTS, content=body.encode(), headers={"Content-Type": "application/x-ndjson"})).json()
    assert job["status"] == "completed" and job["rows_total"] == 8
    # The repeated external id is the same order: created, then updated by the later line.
    assert (job["rows_created"], job["rows_updated"], job["rows_failed"]) == (2, 1, 5)
    assert [(e["row"], e["field"]) for e in job["errors"]] == [
        (3, "placed_at"),
        (3, "currency"),
        (4, "discount"),
        (6, "total"),
        (7, "row"),
        (8, "row"),
    ]
    orders = (await api.get("/api/v1/orders", params={"customer_id": bob})).json()["items"]
    assert sorted((o["placed_at"], o["total_amount"]) for o in orders) == [
        ("2020-01-01T00:00:00Z", "13.00"),
        ("2020-02-01T00:00:00Z", "7.00"),
    ]

    bad_utf8 = (
        await api.post(IMPORTS, content=b'{"a": "\xff"}\n', headers={"Content-Type": "application/x-ndjson"})
    ).json()
    assert bad_utf8["status"] == "failed" and "not UTF-8" in bad_utf8["failure"]
    problem(await api.post(IMPORTS, content=b"a,b\n1,2\n", headers={"Content-Type": "text/csv"}), 422)
    both = problem(
        await api.post(
            IMPORTS,
            content=b"customer_external_id,placed_at,ordered_at,total_amount,currency\n",
            headers={"Content-Type": "text/csv"},
        ),
        422,
    )
    assert [e["field"] for e in both["errors"]] == ["header.ordered_at"]
    problem(await api.post(IMPORTS, content=b"{}", headers={"Content-Type": "application/json"}), 415)
    problem(await api.get(f"{IMPORTS}/{uuid.uuid4()}"), 404)


async def test_a_reimport_never_undoes_what_happened_in_relacja_since(
    api: httpx.AsyncClient, customers_api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    tag = uuid.uuid4().hex[:8]
    ola = await known_customer(customers_api, api, external_id=f"crm-ola-{tag}")
    header = "external_id,customer_external_id,ordered_at,total,currency,status\n"  # the deprecated names still work
    first = (
        header
        + f"p1-{tag},crm-ola-{tag},2020-01-02T10:00:00Z,50.00,PLN,placed\n"
        + f"p2-{tag},crm-ola-{tag},2020-01-03T10:00:00Z,70.00,PLN,placed\n"
    )
    job = (await api.post(IMPORTS, content=first.encode(), headers={"Content-Type": "text/csv"})).json()
    assert job["rows_created"] == 2
    orders = {
        o["external_id"]: o for o in (await api.get("/api/v1/orders", params={"customer_id": ola})).json()["items"]
    }
    paid = await api.post(f"/api/v1/orders/{orders[f'p1-{tag}']['id']}/pay", json={"payment_reference": "PAY-9"})
    assert paid.status_code == 200, paid.text

    # The same file again: the paid order is unchanged, not reported (nothing in the file changed).
    again = (await api.post(IMPORTS, content=first.encode(), headers={"Content-Type": "text/csv"})).json()
    assert (again["rows_created"], again["rows_updated"], again["rows_unchanged"], again["rows_failed"]) == (0, 0, 2, 0)

    # Both rows changed in the file: the untouched order takes it; the paid one keeps its payment.
    changed = first.replace("50.00,PLN", "55.00,PLN").replace("70.00,PLN", "77.00,PLN")
    third = (await api.post(IMPORTS, content=changed.encode(), headers={"Content-Type": "text/csv"})).json()
    assert (third["rows_created"], third["rows_updated"], third["rows_unchanged"], third["rows_failed"]) == (0, 1, 0, 1)
    [error] = third["errors"]
    assert error["row"] == 2 and error["field"] == "external_id" and orders[f"p1-{tag}"]["number"] in error["message"]
    kept = (await api.get(f"/api/v1/orders/{orders[f'p1-{tag}']['id']}")).json()
    assert (kept["status"], kept["total_amount"], kept["payment_reference"]) == ("paid", "50.00", "PAY-9")
    assert (await api.get(f"/api/v1/orders/{orders[f'p2-{tag}']['id']}")).json()["total_amount"] == "77.00"
    assert [kind for kind, _ in await outbox_events(db, kept["id"])] == [
        "placed",
        "paid",
    ]  # no imported snapshot over the payment
    # The migration's backfill (fingerprint of the stored values) gives what the import wrote.
    same = await db.fetchval(
        f"SELECT bool_and(import_fingerprint = {import_fingerprint_sql('o')}) FROM orders AS o "
        "WHERE o.external_id = ANY($1::text[]) AND o.version = o.imported_version",
        [f"p1-{tag}", f"p2-{tag}"],
    )
    assert same is True
