"""Issue #13's story end to end, through the gateway only: staff set up a partner (an
agreement under the consent basis, an API key); the partner registers a webhook endpoint
(a real receiver on loopback) with its key; a customer consents; an order reaches the
partner's feed and its endpoint (signature verified with ``standardwebhooks``) with only
the allowed fields and under a pseudonym; the customer withdraws consent, so a later order
never reaches the partner but a tombstone does; the customer is erased and the partner
gets the erasure notice; the customer's disclosures (and the 360 view and the GDPR export)
name the partner with what was sent, by feed and by webhook.

"Never reaches" needs a witness that the later order was handled at all: a second partner
under a ``contract`` agreement receives every order, and the fan-out is one statement per
event over every agreement, so the moment that partner has the later order, the first
partner's feed has had its chance to get it too; and the sharing consumer's inbox has the
event.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from relacja_contracts.topics import ORDERS
from relacja_devstack import Stack

from ..support import applied, eventually, read_topic
from ..webhook_receiver import WebhookReceiver

STAFF_SCOPES = [
    "customers:read",
    "customers:write",
    "orders:read",
    "orders:write",
    "sharing:read",
    "sharing:admin",
]
PLACED = "relacja.orders.order.placed.v1"
ALLOWED = ["order_number", "total_amount", "currency", "status"]  # of OrderPlacedV1
TOMBSTONE = "relacja.sharing.consent.withdrawn.v1"
ERASURE = "relacja.sharing.customer.erased.v1"


@pytest.fixture
async def staff(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {stack.token(STAFF_SCOPES)}"}
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers=headers, timeout=30) as client:
        yield client


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return response.json()


async def partner_with_agreement(
    staff: httpx.AsyncClient, stack: Stack, *, name: str, legal_basis: str
) -> tuple[str, str, httpx.AsyncClient]:
    """(partner id, agreement id, a client carrying the partner's API key) — an active
    outbound agreement for order.placed with the ALLOWED fields and the default pseudonym."""
    partner = created(await staff.post("/api/v1/sharing/partners", json={"legal_name": name}))
    agreement = created(
        await staff.post(
            "/api/v1/sharing/agreements",
            json={
                "partner_id": partner["id"],
                "name": f"{name} deliveries",
                "purposes": ["delivery"],
                "direction": "outbound",
                "legal_basis": legal_basis,
                "allowed_fields": {PLACED: ALLOWED},
            },
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
    )
    activated = await staff.post(
        f"/api/v1/sharing/agreements/{agreement['id']}/activate", headers={"If-Match": f'"{agreement["version"]}"'}
    )
    assert activated.status_code == 200 and activated.json()["status"] == "active", activated.text
    key = created(
        await staff.post(
            f"/api/v1/sharing/partners/{partner['id']}/keys",
            json={"label": "e2e feed reader"},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
    )
    assert key["api_key"].startswith("rpk_")
    client = httpx.AsyncClient(
        base_url=stack.gateway_url, headers={"Authorization": f"Bearer {key['api_key']}"}, timeout=30
    )
    return partner["id"], agreement["id"], client


async def feed(partner: httpx.AsyncClient, agreement_id: str) -> list[dict[str, Any]]:
    """Every record of the agreement's feed so far, following the cursor."""
    records: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        params = {"limit": "500"} | ({"after": after} if after else {})
        page = await partner.get(f"/partner/v1/feeds/{agreement_id}/events", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        records += body["items"]
        after = body["next_cursor"]
        if not body["has_more"]:
            return records


async def place_order(staff: httpx.AsyncClient, customer_id: str, sku: str) -> dict[str, Any]:
    body = {"customer_id": customer_id, "channel": "web", "currency": "PLN", "lines": [{"sku": sku, "quantity": 1}]}
    return created(await staff.post("/api/v1/orders", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}))


async def consent(staff: httpx.AsyncClient, customer_id: str, partner_id: str, status: str) -> None:
    created(
        await staff.post(
            f"/api/v1/customers/{customer_id}/consents",
            json={
                "purpose": "partner_sharing",
                "status": status,
                "source": "web-form",
                "partner_id": partner_id,
                "partner_purpose": "delivery",
            },
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
    )


async def test_an_order_reaches_a_consenting_customers_partner_and_stops_at_withdrawal(
    stack: Stack, staff: httpx.AsyncClient
) -> None:
    suffix = uuid.uuid4().hex[:8]
    partner_id, agreement_id, partner = await partner_with_agreement(
        staff, stack, name=f"Kurier {suffix} Sp. z o.o.", legal_basis="consent"
    )
    _, witness_agreement, witness = await partner_with_agreement(
        staff, stack, name=f"Magazyn {suffix} S.A.", legal_basis="contract"
    )
    sharing_db = await asyncpg.connect(stack.database_url("sharing").replace("+asyncpg", ""))
    receiver = WebhookReceiver()
    await receiver.__aenter__()
    try:
        endpoint = created(
            await partner.post(
                f"/partner/v1/agreements/{agreement_id}/endpoints",
                json={"url": receiver.url("/hook"), "description": "deliveries desk"},
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
        )
        webhook = Webhook(endpoint["secret"])

        def pushed() -> list[dict[str, Any]]:
            """Every delivery so far, verified (a bad signature raises), in arrival order."""
            return [webhook.verify(got.body, got.headers) for got in receiver.received("/hook")]

        sku = "SHR-" + suffix.upper()
        product = {"sku": sku, "name": "Kubek", "category": "kitchen", "list_price": "40.00", "tax_rate": "0.23"}
        created(await staff.post("/api/v1/products", json=product | {"currency": "PLN"}))
        customer = created(
            await staff.post(
                "/api/v1/customers",
                json={
                    "kind": "person",
                    "given_name": "Ola",
                    "family_name": "Story" + suffix,
                    "email": f"ola{suffix}@example.com",
                },
            )
        )
        customer_id = customer["id"]
        await consent(staff, customer_id, partner_id, "granted")

        async def known_to_orders() -> bool:
            return (await staff.get(f"/api/v1/orders/customers/{customer_id}/summary")).status_code == 200

        await eventually(known_to_orders, timeout=60)

        # -- the consented order reaches the partner's feed, allowed fields only ----------
        first = await place_order(staff, customer_id, sku)

        async def first_in_feed() -> dict[str, Any] | None:
            return next((r for r in await feed(partner, agreement_id) if r["type"] == PLACED), None)

        record = await eventually(first_in_feed, timeout=60)
        assert record["specversion"] == "1.0" and record["datacontenttype"] == "application/json"
        assert set(record["data"]) == set(ALLOWED)
        assert record["data"]["order_number"] == first["number"]
        assert record["data"]["total_amount"] == first["total_amount"]
        assert customer_id not in str(record) and customer["email"] not in str(record)
        pseudonym = record["subject"]
        assert pseudonym and pseudonym != customer_id

        async def first_pushed() -> dict[str, Any] | None:
            return next((body for body in pushed() if body["type"] == PLACED), None)

        delivered = await eventually(first_pushed, timeout=60)
        assert delivered == record  # the same record, by webhook: allowed fields only
        assert customer_id not in receiver.received("/hook")[0].body.decode()

        # -- withdrawal: a tombstone, and the later order never arrives -------------------
        await consent(staff, customer_id, partner_id, "withdrawn")

        async def tombstone() -> dict[str, Any] | None:
            return next((r for r in await feed(partner, agreement_id) if r["type"] == TOMBSTONE), None)

        stop = await eventually(tombstone, timeout=60)
        assert stop["subject"] == pseudonym and stop["data"]["instruction"] == "stop_processing"

        async def tombstone_pushed() -> bool:
            return any(body["type"] == TOMBSTONE for body in pushed())

        await eventually(tombstone_pushed, timeout=60)
        second = await place_order(staff, customer_id, sku)

        async def witnessed() -> bool:
            return any(
                r["data"].get("order_number") == second["number"] for r in await feed(witness, witness_agreement)
            )

        await eventually(witnessed, timeout=60)
        placed = await read_topic(
            stack.bootstrap_servers,
            ORDERS.name,
            header="ce_subject",
            values={customer_id},
            until=lambda rs: len(rs) >= 2,
        )
        for event in placed:
            event_id = dict(event.headers)["ce_id"].decode()

            async def fanned_out(event_id: str = event_id) -> bool:
                return await applied(sharing_db, "sharing.fanout", event_id)

            await eventually(fanned_out, timeout=60)
        records = await feed(partner, agreement_id)
        assert [r["data"].get("order_number") for r in records if r["type"] == PLACED] == [first["number"]]
        assert [r["type"] for r in records].index(TOMBSTONE) > [r["type"] for r in records].index(PLACED)
        assert [b["data"].get("order_number") for b in pushed() if b["type"] == PLACED] == [first["number"]]

        # -- erasure: the partner is told, even with consent gone --------------------------
        current = await staff.get(f"/api/v1/customers/{customer_id}")
        erased = await staff.post(
            f"/api/v1/customers/{customer_id}/erase", headers={"If-Match": current.headers["etag"]}
        )
        assert erased.status_code == 200, erased.text

        async def erasure_notice() -> dict[str, Any] | None:
            return next((r for r in await feed(partner, agreement_id) if r["type"] == ERASURE), None)

        notice = await eventually(erasure_notice, timeout=60)
        assert notice["subject"] == pseudonym and notice["data"]["instruction"] == "erase"
        notices = await partner.get("/partner/v1/notices")
        assert notices.status_code == 200 and [n["subject"] for n in notices.json()["items"]] == [pseudonym]

        async def erasure_pushed() -> bool:
            return any(body["type"] == ERASURE and body["subject"] == pseudonym for body in pushed())

        await eventually(erasure_pushed, timeout=60)
        assert [b["data"].get("order_number") for b in pushed() if b["type"] == PLACED] == [first["number"]]

        # -- who got the customer's data: disclosures, the 360 view, the export ------------
        listed = await staff.get(f"/api/v1/customers/{customer_id}/disclosures")
        assert listed.status_code == 200, listed.text
        to_partner = [d for d in listed.json()["items"] if d["partner_id"] == partner_id]
        placed_disclosures = [d for d in to_partner if d["event_type"] == PLACED]
        assert {d["channel"] for d in placed_disclosures} == {"feed", "webhook"}
        for disclosure in placed_disclosures:
            assert disclosure["agreement_id"] == agreement_id
            assert sorted(disclosure["fields"]) == sorted(ALLOWED)
            assert disclosure["purposes"] == ["delivery"]
            assert disclosure["partner_legal_name"] == f"Kurier {suffix} Sp. z o.o."
        assert {d["record_id"] for d in placed_disclosures} == {record["id"]}  # one record, both channels

        view = (await staff.get(f"/api/v1/customers/{customer_id}/360")).json()
        assert "disclosures" not in view["omitted"]
        export = await staff.get(f"/api/v1/customers/{customer_id}/export")
        assert export.status_code == 200, export.text
        exported = export.json()["related"]["disclosures"]
        assert {(d["partner_id"], d["event_type"], d["channel"]) for d in exported} >= {
            (partner_id, PLACED, "feed"),
            (partner_id, PLACED, "webhook"),
        }
    finally:
        await receiver.__aexit__(None, None, None)
        await sharing_db.close()
        await partner.aclose()
        await witness.aclose()
