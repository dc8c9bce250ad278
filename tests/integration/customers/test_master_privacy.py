"""GDPR export and erasure against the real PostgreSQL and broker."""

from __future__ import annotations

import importlib
import json
import pkgutil
import uuid

import asyncpg
import httpx

import relacja_customers.app
from relacja_customers.app.related_areas import RELATED_DATA
from relacja_customers.app.related_data import RelatedData
from relacja_devstack import Stack

from .support import create, events_about, unique_phone


def registered_areas() -> set[str]:
    """Every RELATED_DATA area; an app module that defines an area (``RELATED``) must be listed."""
    defined = set()
    for module in pkgutil.iter_modules(relacja_customers.app.__path__):
        area = getattr(importlib.import_module(f"relacja_customers.app.{module.name}"), "RELATED", None)
        if isinstance(area, RelatedData):
            defined.add(area.name)
    listed = {area.name for area in RELATED_DATA}
    assert defined == listed, f"defined but not in related_areas.RELATED_DATA: {defined - listed}"
    return listed


def personal(word: str) -> dict:
    return {
        "given_name": "Zofia",
        "family_name": f"Prywatna{word}",
        "email": f"zofia.{word}@example.com",
        "phone": unique_phone(),
        "addresses": [{"type": "home", "line1": "Tajna 7", "city": "Poznań", "country": "PL"}],
        "preferred_language": "pl",
        "birth_date": "1985-07-14",
        "external_id": f"ext-{word}",
        "owner_id": "agent-3",
        "tags": ["vip"],
        "lifecycle_stage": "customer",
        "custom_attributes": {"shoe": {"type": "number", "value": 38}},
    }


async def test_export_holds_the_record_every_related_area_and_the_event_log(api: httpx.AsyncClient) -> None:
    word = uuid.uuid4().hex[:8]
    customer = await create(api, **personal(word))
    assert (
        await api.patch(
            f"/api/v1/customers/{customer['id']}", json={"tags": ["vip", "gold"]}, headers={"If-Match": '"1"'}
        )
    ).status_code == 200
    date = await api.post(
        f"/api/v1/customers/{customer['id']}/important-dates", json={"kind": "birthday", "month": 7, "day": 14}
    )
    assert date.status_code == 201, date.text

    response = await api.get(f"/api/v1/customers/{customer['id']}/export")
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["format"] == "relacja.customer-export.v1"
    assert document["customer"]["email"] == customer["email"] and document["customer"]["tags"] == ["gold", "vip"]
    areas = registered_areas()
    assert "important_dates" in areas and set(document["related"]) == areas
    assert date.json()["id"] in json.dumps(document["related"])
    assert [e["event_type"].split(".")[-2] for e in document["events"]][:2] == ["registered", "updated"]
    assert document["events"][0]["payload"]["email"] == customer["email"].lower()
    assert (await api.get(f"/api/v1/customers/{uuid.uuid4()}/export")).status_code == 404


async def test_erase_pseudonymises_everywhere_keeps_aggregates_and_emits_erased(
    stack: Stack, api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    word = uuid.uuid4().hex[:8]
    details = personal(word)
    customer = await create(api, headers={"Idempotency-Key": f"erase-{word}"}, **details)
    customer_id = uuid.UUID(customer["id"])
    await events_about(
        stack, customer["id"], "registered"
    )  # published before the erasure: the retained outbox row is scrubbed too

    response = await api.post(f"/api/v1/customers/{customer['id']}/erase")
    assert response.status_code == 200, response.text
    erased = response.json()
    assert erased["display_name"] == "erased" and erased["given_name"] == "erased" and erased["family_name"] == "erased"
    for name in ("email", "phone", "birth_date", "external_id", "preferred_language", "company_id"):
        assert erased[name] is None, name
    assert erased["addresses"] == [] and erased["custom_attributes"] == {}
    assert erased["kind"] == "person" and erased["lifecycle_stage"] == "customer" and erased["tags"] == ["vip"]
    assert erased["owner_id"] == "agent-3" and erased["created_at"] == customer["created_at"]
    assert erased["erased_at"] is not None and erased["version"] == 2

    row = await db.fetchrow(
        "SELECT email_normalized, search_document, name_key FROM customers WHERE id = $1", customer_id
    )
    assert row is not None
    assert row["email_normalized"] is None and word not in row["search_document"] and row["name_key"] == "erased"
    logged = await db.fetch("SELECT payload FROM customer_event_log WHERE customer_id = $1", customer_id)
    outbox = await db.fetch(
        "SELECT o.payload FROM outbox_events o JOIN customer_event_log l USING (event_id) WHERE l.customer_id = $1",
        customer_id,
    )
    stored = await db.fetchval("SELECT response_body::text FROM idempotency_keys WHERE key = $1", f"erase-{word}")
    for text in [r["payload"] for r in logged] + [r["payload"] for r in outbox] + [stored]:
        assert word not in text and "Zofia" not in text, text
    assert len(outbox) == len(logged) == 2

    # The e-mail, phone and external id can be used again.
    again = await create(
        api, given_name="Nowa", email=details["email"], phone=details["phone"], external_id=details["external_id"]
    )
    assert again["id"] != customer["id"]
    assert "erased" in await events_about(stack, customer["id"], "registered", "erased")


async def test_erasing_twice_is_a_no_op_and_an_erased_customer_cannot_change(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    customer = await create(api, given_name="Ola", email=f"ola.{uuid.uuid4().hex[:8]}@example.com")
    stale = await api.post(f"/api/v1/customers/{customer['id']}/erase", headers={"If-Match": '"7"'})
    assert stale.status_code == 412 and stale.headers["etag"] == '"1"'  # If-Match is checked when sent
    first = await api.post(f"/api/v1/customers/{customer['id']}/erase", headers={"If-Match": '"1"'})
    # A retry of the done erasure is answered as is, whatever version its If-Match names.
    second = await api.post(f"/api/v1/customers/{customer['id']}/erase", headers={"If-Match": '"1"'})
    assert first.status_code == second.status_code == 200 and first.json() == second.json()
    assert first.headers["etag"] == '"2"'
    count = "SELECT count(*) FROM customer_event_log WHERE customer_id = $1 AND event_type LIKE '%erased%'"
    assert await db.fetchval(count, uuid.UUID(customer["id"])) == 1

    response = await api.patch(
        f"/api/v1/customers/{customer['id']}", json={"given_name": "Back"}, headers={"If-Match": '"2"'}
    )
    assert response.status_code == 409 and response.json()["type"] == "urn:relacja:problem:customer-erased"
    survivor = await create(api, given_name="Survivor")
    response = await api.post(
        f"/api/v1/customers/{customer['id']}/merge",
        json={"merge_customer_id": survivor["id"]},
        headers={"If-Match": '"2"'},
    )
    assert response.status_code == 409
    assert (await api.post(f"/api/v1/customers/{uuid.uuid4()}/erase")).status_code == 404


async def test_erasing_a_company_removes_its_name_from_its_people_search(api: httpx.AsyncClient) -> None:
    word = "e" + "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:9])
    company = await create(api, kind="company", legal_name=f"Tajna {word}")
    person = await create(api, given_name="Jan", company_id=company["id"])
    assert (await api.post(f"/api/v1/customers/{company['id']}/erase")).status_code == 200
    assert (await api.get("/api/v1/customers", params={"q": word})).json()["items"] == []
    assert (await api.get(f"/api/v1/customers/{person['id']}")).json()["company_id"] == company["id"]
