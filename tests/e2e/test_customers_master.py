"""The customer master end to end through the gateway: create, find, update with If-Match,
merge, export and erase one customer, and see every event on the broker."""

from __future__ import annotations

import json
import uuid

import httpx

from relacja_contracts.topics import CUSTOMERS
from relacja_devstack import Stack

from ..support import eventually, read_topic


def word() -> str:
    return "w" + "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:9])


def problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


async def test_the_life_of_a_customer(stack: Stack, gateway: httpx.AsyncClient) -> None:
    name = word()
    created = await gateway.post(
        "/api/v1/customers",
        json={
            "kind": "person",
            "given_name": "Anna",
            "family_name": f"Kowalska{name}",
            "email": f"anna.{name}@example.com",
            "phone": f"+48 6{uuid.uuid4().int % 10**8:08d}",
            "tags": ["web"],
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert created.status_code == 201, created.text
    anna = created.json()
    assert created.headers["etag"] == '"1"'

    found = await gateway.get(
        "/api/v1/customers", params={"q": f"kowalska{name[:6]}", "tag": "web", "lifecycle_stage": "lead"}
    )
    assert found.status_code == 200 and [c["id"] for c in found.json()["items"]] == [anna["id"]]

    url = f"/api/v1/customers/{anna['id']}"
    updated = await gateway.patch(
        url, json={"lifecycle_stage": "prospect", "owner_id": "agent-1"}, headers={"If-Match": '"1"'}
    )
    assert updated.status_code == 200, updated.text
    assert updated.headers["etag"] == '"2"'
    stale = problem(await gateway.patch(url, json={"owner_id": "agent-2"}, headers={"If-Match": '"1"'}), 412)
    assert stale["errors"][0]["field"] == "header.If-Match"

    twin = (
        await gateway.post(
            "/api/v1/customers",
            json={
                "kind": "person",
                "given_name": "Anna",
                "family_name": f"Kowalski{name}",
                "birth_date": "1990-03-04",
                "tags": ["shop"],
            },
        )
    ).json()
    duplicates = (await gateway.get(f"{url}/duplicates")).json()["items"]
    assert twin["id"] in [d["customer"]["id"] for d in duplicates]
    merged = await gateway.post(f"{url}/merge", json={"merge_customer_id": twin["id"]}, headers={"If-Match": '"2"'})
    assert merged.status_code == 200, merged.text
    assert merged.json()["birth_date"] == "1990-03-04" and merged.json()["tags"] == ["shop", "web"]
    assert (await gateway.get(f"/api/v1/customers/{twin['id']}")).status_code == 404

    export = await gateway.get(f"{url}/export")
    assert export.status_code == 200
    assert export.json()["related"]["disclosures"] == []  # the gateway adds the recipients: none here
    assert [e["event_type"].split(".")[-2] for e in export.json()["events"]] == [
        "registered",
        "updated",
        "registered",
        "merged",
        "updated",
    ]

    erased = await gateway.post(f"{url}/erase")
    assert erased.status_code == 200 and erased.json()["display_name"] == "erased" and erased.json()["email"] is None
    assert (await gateway.get("/api/v1/customers", params={"q": f"kowalska{name}"})).json()["items"] == []

    async def on_the_broker() -> dict[str, dict] | None:
        records = await read_topic(stack.bootstrap_servers, CUSTOMERS.name, header="ce_subject", values={anna["id"]})
        seen = {dict(r.headers)["ce_type"].decode(): json.loads(r.value) for r in records}
        return seen if len(seen) == 4 else None

    events = await eventually(on_the_broker, timeout=30)
    prefix = "relacja.customers.customer."
    assert set(events) == {f"{prefix}registered.v1", f"{prefix}updated.v1", f"{prefix}merged.v1", f"{prefix}erased.v1"}
    assert events[f"{prefix}merged.v1"]["merged_customer_id"] == twin["id"]
    assert "Kowalska" not in json.dumps(events[f"{prefix}erased.v1"])


async def test_bad_input_through_the_gateway_names_the_field(gateway: httpx.AsyncClient) -> None:
    bad = problem(
        await gateway.post(
            "/api/v1/customers",
            json={
                "kind": "person",
                "given_name": "X",
                "email": "x@",
                "phone": "+48 1",
                "birth_date": "2999-01-01",
                "tags": [1],
                "eyes": "blue",
            },
        ),
        422,
    )
    assert {"body.email", "body.phone", "body.birth_date", "body.tags.0", "body.eyes"} <= {
        e["field"] for e in bad["errors"]
    }
    customer = (await gateway.post("/api/v1/customers", json={"kind": "person", "given_name": "Y"})).json()
    url = f"/api/v1/customers/{customer['id']}"
    assert problem(await gateway.patch(url, json={"given_name": "Z"}), 428)["errors"][0]["field"] == "header.If-Match"
    itself = problem(
        await gateway.post(f"{url}/merge", json={"merge_customer_id": customer["id"]}, headers={"If-Match": '"1"'}), 422
    )
    assert itself["errors"][0]["field"] == "body.merge_customer_id"


async def test_an_import_through_the_gateway(gateway: httpx.AsyncClient) -> None:
    p = f"gw-{uuid.uuid4().hex[:8]}-"
    body = f"external_id,given_name,family_name\n{p}1,Ala,Nowak\n{p}2,Ola,\n{p}3,,\n".encode()
    response = await gateway.post("/api/v1/customers/imports", content=body, headers={"Content-Type": "text/csv"})
    assert response.status_code == 202, response.text
    job = response.json()
    assert (job["rows_created"], job["rows_failed"], job["errors"][0]["row"]) == (2, 1, 4)
    followed = await gateway.get(response.headers["location"])
    assert followed.status_code == 200 and followed.json()["status"] == "completed"
