"""The customer master's fields, creation and PATCH with If-Match, against the real
PostgreSQL and broker: what is stored, which events go out, and every bad input."""

from __future__ import annotations

import json
import uuid

import asyncpg
import httpx

from relacja_devstack import Stack

from .support import create, events_about, problem, unique_phone


def unique_email(name: str = "anna") -> str:
    return f"{name}.{uuid.uuid4().hex[:10]}@example.com"


def fields(body: dict) -> set[str]:
    return {error["field"] for error in body["errors"]}


async def test_a_person_with_every_field_is_stored_normalised_and_announced(
    stack: Stack, api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    company = await create(api, kind="company", legal_name="Acme Sp. z o.o.", tags=["b2b"])
    assert company["display_name"] == "Acme Sp. z o.o."
    email = unique_email("Zofia")
    phone = unique_phone(" ")
    customer = await create(
        api,
        given_name=" Zofia ",
        family_name="Łęcka",
        email=email.upper().replace("@EXAMPLE.COM", "@Example.com"),
        phone=phone.removeprefix("+48 "),
        addresses=[
            {"type": "billing", "line1": "ul. Długa 1", "postal_code": "80-001", "city": "Gdańsk", "country": "pl"}
        ],
        preferred_language="pl-pl",
        birth_date="1990-05-01",
        lifecycle_stage="prospect",
        owner_id="agent-7",
        external_id=f"crm-{uuid.uuid4().hex[:8]}",
        company_id=company["id"],
        tags=["vip", "newsletter", "vip"],
        custom_attributes={"score": {"type": "number", "value": 7}, "since": {"type": "date", "value": "2020-01-31"}},
    )
    assert customer["display_name"] == "Zofia Łęcka" and customer["given_name"] == "Zofia"
    assert customer["phone"] == phone.replace(" ", "")
    assert customer["preferred_language"] == "pl-PL"
    assert customer["addresses"][0]["country"] == "PL"
    assert customer["tags"] == ["newsletter", "vip"]
    assert customer["custom_attributes"]["score"] == {"type": "number", "value": 7}
    assert customer["company_id"] == company["id"] and customer["version"] == 1 and customer["erased_at"] is None

    row = await db.fetchrow("SELECT * FROM customers WHERE id = $1", uuid.UUID(customer["id"]))
    assert row is not None
    assert row["email_normalized"] == email.lower()
    assert row["name_key"] == "zofia lecka"
    assert row["company_name_key"] == "acme sp. z o.o."
    assert phone.replace(" ", "").lstrip("+") in row["search_document"] and "acme" in row["search_document"]

    registered = (await events_about(stack, customer["id"], "registered"))["registered"][0]
    assert registered["email"] == email.lower() and registered["company_id"] == company["id"]
    assert registered["owner_id"] == "agent-7" and registered["tags"] == ["newsletter", "vip"]
    assert registered["lifecycle_stage"] == "prospect" and registered["imported"] is False


async def test_bad_fields_are_422_naming_each_field(api: httpx.AsyncClient) -> None:
    body = problem(
        await api.post(
            "/api/v1/customers",
            json={
                "kind": "person",
                "display_name": "X",
                "email": "not-an-address",
                "phone": "+48 12",
                "birth_date": "2999-01-01",
                "preferred_language": "english!",
                "addresses": [{"type": "castle", "line1": "1", "city": "A", "country": "XX"}],
                "custom_attributes": {
                    "vip": {"type": "boolean", "value": "yes"},
                    "score": {"type": "number", "value": "3"},
                    "9bad": {"type": "string", "value": "x"},
                },
                "tags": "vip",
                "shoe_size": 44,
            },
        ),
        422,
    )
    assert {
        "body.email",
        "body.phone",
        "body.birth_date",
        "body.preferred_language",
        "body.addresses.0.type",
        "body.addresses.0.country",
        "body.custom_attributes.vip.boolean.value",
        "body.custom_attributes.score.number.value",
        "body.custom_attributes.9bad.[key]",
        "body.tags",
        "body.shoe_size",
    } <= fields(body)
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert messages["body.birth_date"] == "must not be in the future"
    assert messages["body.phone"] == "not a valid phone number for its country"


async def test_rules_across_fields_are_422(api: httpx.AsyncClient) -> None:
    person = await create(api, given_name="Jan")
    body = problem(
        await api.post(
            "/api/v1/customers",
            json={"kind": "company", "given_name": "Jan", "birth_date": "1990-01-01", "company_id": person["id"]},
        ),
        422,
    )
    assert fields(body) == {"body.given_name", "body.birth_date", "body.company_id", "body.display_name"}
    body = problem(
        await api.post("/api/v1/customers", json={"kind": "person", "company_id": person["id"], "given_name": "Ola"}),
        422,
    )
    assert fields(body) == {"body.company_id"}
    body = problem(await api.post("/api/v1/customers", json={"kind": "person", "legal_name": "Acme"}), 422)
    assert fields(body) == {"body.legal_name", "body.display_name"}


async def test_duplicate_email_or_phone_is_409_naming_the_existing_customer(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    email, phone = unique_email(), unique_phone(" ")
    first = await create(api, given_name="Anna", email=email, phone=phone)
    count = await db.fetchval("SELECT count(*) FROM customers")
    by_email = problem(
        await api.post("/api/v1/customers", json={"kind": "person", "given_name": "B", "email": email.upper()}), 409
    )
    assert by_email["existing_id"] == first["id"] and fields(by_email) == {"body.email"}
    by_phone = problem(
        await api.post(
            "/api/v1/customers",
            json={"kind": "person", "given_name": "C", "phone": "0048" + phone.removeprefix("+48 ")},
        ),
        409,
    )
    assert by_phone["existing_id"] == first["id"] and fields(by_phone) == {"body.phone"}
    assert await db.fetchval("SELECT count(*) FROM customers") == count


async def test_patch_needs_if_match_and_answers_412_on_a_stale_etag(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    customer = await create(api, given_name="Anna", family_name="Kowalska")
    url = f"/api/v1/customers/{customer['id']}"
    body = problem(await api.patch(url, json={"family_name": "Nowak"}), 428)
    assert fields(body) == {"header.If-Match"}
    stale = await api.patch(url, json={"family_name": "Nowak"}, headers={"If-Match": '"9"'})
    assert fields(problem(stale, 412)) == {"header.If-Match"}
    assert stale.headers["etag"] == '"1"'
    assert problem(await api.patch(url, json={"family_name": "Nowak"}, headers={"If-Match": 'W/"1"'}), 412)
    assert await db.fetchval("SELECT family_name FROM customers WHERE id = $1", uuid.UUID(customer["id"])) == "Kowalska"
    assert (
        await api.patch(f"/api/v1/customers/{uuid.uuid4()}", json={}, headers={"If-Match": '"1"'})
    ).status_code == 404


async def test_patch_is_a_merge_patch_that_bumps_the_version_and_emits_the_changed_fields(
    stack: Stack, api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    customer = await create(
        api,
        given_name="Anna",
        family_name="Kowalska",
        email=unique_email(),
        tags=["a"],
        custom_attributes={"vip": {"type": "boolean", "value": True}, "score": {"type": "number", "value": 1}},
    )
    url = f"/api/v1/customers/{customer['id']}"
    response = await api.patch(
        url,
        content=json.dumps(
            {
                "family_name": "Nowak",
                "email": None,
                "tags": ["b", "a"],
                "lifecycle_stage": "customer",
                "custom_attributes": {"vip": None, "score": {"type": "number", "value": 2.5}},
            }
        ),
        headers={"If-Match": '"1"', "Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    updated = response.json()
    assert updated["display_name"] == "Anna Nowak" and updated["email"] is None and updated["tags"] == ["a", "b"]
    assert updated["custom_attributes"] == {"score": {"type": "number", "value": 2.5}}
    assert updated["lifecycle_stage"] == "customer" and updated["version"] == 2
    assert await db.fetchval("SELECT email_normalized FROM customers WHERE id = $1", uuid.UUID(customer["id"])) is None

    events = await events_about(stack, customer["id"], "registered", "updated")
    assert events["updated"][0]["changed_fields"] == [
        "display_name",
        "family_name",
        "email",
        "lifecycle_stage",
        "tags",
        "custom_attributes",
    ]
    assert events["updated"][0]["version"] == 2 and events["updated"][0]["lifecycle_stage"] == "customer"


async def test_a_patch_that_changes_nothing_keeps_the_version_and_emits_nothing(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    customer = await create(api, given_name="Anna", tags=["a"])
    response = await api.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"given_name": "Anna", "tags": ["a"], "kind": "person"},
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 200 and response.json() == customer and response.headers["etag"] == '"1"'
    assert (
        await db.fetchval("SELECT count(*) FROM customer_event_log WHERE customer_id = $1", uuid.UUID(customer["id"]))
        == 1
    )


async def test_patch_rejects_bad_values_stage_moves_kind_changes_and_duplicates(api: httpx.AsyncClient) -> None:
    other = await create(api, given_name="Other", email=unique_email())
    customer = await create(api, given_name="Anna", lifecycle_stage="customer")
    url, match = f"/api/v1/customers/{customer['id']}", {"If-Match": '"1"'}
    body = problem(
        await api.patch(url, json={"phone": "abc", "birth_date": "2999-12-31", "nickname": "A"}, headers=match), 422
    )
    assert fields(body) == {"body.phone", "body.birth_date", "body.nickname"}
    body = problem(await api.patch(url, json={"lifecycle_stage": "lead"}, headers=match), 422)
    assert fields(body) == {"body.lifecycle_stage"} and "allowed: inactive" in body["errors"][0]["message"]
    assert fields(problem(await api.patch(url, json={"kind": "company"}, headers=match), 422)) == {"body.kind"}
    assert fields(problem(await api.patch(url, json={"lifecycle_stage": None}, headers=match), 422)) == {
        "body.lifecycle_stage"
    }
    assert fields(problem(await api.patch(url, json={"given_name": None}, headers=match), 422)) == {"body.display_name"}
    duplicate = problem(await api.patch(url, json={"email": other["email"]}, headers=match), 409)
    assert duplicate["existing_id"] == other["id"]
    assert (await api.get(url)).json()["version"] == 1


async def test_a_renamed_company_is_found_through_its_persons(api: httpx.AsyncClient) -> None:
    marker = uuid.uuid4().hex[:8]
    company = await create(api, kind="company", legal_name=f"Alpha {marker}")
    person = await create(api, given_name="Ewa", company_id=company["id"])
    response = await api.patch(
        f"/api/v1/customers/{company['id']}", json={"legal_name": f"Omega {marker}"}, headers={"If-Match": '"1"'}
    )
    assert response.status_code == 200 and response.json()["display_name"] == f"Omega {marker}"
    found = (await api.get("/api/v1/customers", params={"q": f"omega {marker}", "kind": "person"})).json()["items"]
    assert [c["id"] for c in found] == [person["id"]]
    assert (await api.get("/api/v1/customers", params={"q": f"alpha {marker}"})).json()["items"] == []
