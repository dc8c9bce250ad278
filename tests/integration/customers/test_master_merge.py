"""Likely duplicates and merging two customers, against the real PostgreSQL and broker."""

from __future__ import annotations

import uuid

import asyncpg
import httpx

from relacja_devstack import Stack

from .support import create, events_about, marker, problem, unique_phone


async def merge(api: httpx.AsyncClient, survivor: dict, other_id: str, etag: str | None = None) -> httpx.Response:
    headers = {"If-Match": etag or f'"{survivor["version"]}"'}
    return await api.post(
        f"/api/v1/customers/{survivor['id']}/merge", json={"merge_customer_id": other_id}, headers=headers
    )


async def test_duplicates_by_similar_name_ranked_by_score(api: httpx.AsyncClient) -> None:
    word = marker("m")
    email, phone = f"dup.{word}@example.com", unique_phone()
    me = await create(api, given_name="Anna", family_name=f"Kowalska{word}", email=email, phone=phone)
    # E-mail and phone are unique among records, so only names can be shared here (the contact
    # reasons are covered by the unit tests of duplicate_score).
    same_name = await create(api, given_name="Anna", family_name=f"Kowalski{word}")
    same_name_exact = await create(api, given_name="anna", family_name=f"KOWALSKA{word}")
    unrelated = await create(api, given_name="Piotr", family_name=f"Nowak{word}")
    company = await create(api, kind="company", legal_name=f"Anna Kowalska{word}")

    response = await api.get(f"/api/v1/customers/{me['id']}/duplicates")
    assert response.status_code == 200, response.text
    body = response.json()
    found = {item["customer"]["id"]: item for item in body["items"]}
    assert body["name_similarity_threshold"] == 0.6
    assert found[same_name_exact["id"]]["score"] == 1.0 and found[same_name_exact["id"]]["reasons"] == ["name"]
    assert 0.6 <= found[same_name["id"]]["score"] < 1.0 and found[same_name["id"]]["reasons"] == ["name"]
    assert unrelated["id"] not in found and company["id"] not in found and me["id"] not in found
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)

    assert (await api.get(f"/api/v1/customers/{uuid.uuid4()}/duplicates")).status_code == 404
    assert (await api.get(f"/api/v1/customers/{me['id']}/duplicates", params={"limit": 500})).status_code == 400


async def test_merge_fills_fields_moves_everything_and_emits_merged_and_updated(
    stack: Stack, api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    word = marker("m")
    survivor = await create(
        api,
        given_name="Anna",
        family_name=word,
        email=f"anna.{word}@example.com",
        tags=["vip"],
        custom_attributes={"score": {"type": "number", "value": 1}},
    )
    other = await create(
        api,
        given_name="Ania",
        family_name=word,
        email=f"ania.{word}@example.com",
        phone=unique_phone(),
        tags=["newsletter"],
        lifecycle_stage="customer",
        birth_date="1991-02-03",
        addresses=[{"type": "home", "line1": "Polna 1", "city": "Kraków", "country": "PL"}],
        custom_attributes={"score": {"type": "number", "value": 9}, "channel": {"type": "string", "value": "shop"}},
    )
    date = await api.post(
        f"/api/v1/customers/{other['id']}/important-dates", json={"kind": "birthday", "month": 2, "day": 3}
    )
    assert date.status_code == 201, date.text

    response = await merge(api, survivor, other["id"])
    assert response.status_code == 200, response.text
    merged = response.json()
    assert response.headers["etag"] == '"2"' and merged["version"] == 2
    assert merged["email"] == survivor["email"] and merged["phone"] == other["phone"]
    assert merged["given_name"] == "Anna" and merged["birth_date"] == "1991-02-03"
    assert merged["tags"] == ["newsletter", "vip"] and merged["lifecycle_stage"] == "customer"
    assert merged["addresses"] == other["addresses"]
    assert merged["custom_attributes"] == {
        "score": {"type": "number", "value": 1},
        "channel": {"type": "string", "value": "shop"},
    }

    assert (await api.get(f"/api/v1/customers/{other['id']}")).status_code == 404
    survivor_id, other_id = uuid.UUID(survivor["id"]), uuid.UUID(other["id"])
    assert (
        await db.fetchval("SELECT customer_id FROM important_dates WHERE id = $1", uuid.UUID(date.json()["id"]))
        == survivor_id
    )
    assert await db.fetchval("SELECT count(*) FROM customer_event_log WHERE customer_id = $1", other_id) == 0
    logged = await db.fetch("SELECT event_type FROM customer_event_log WHERE customer_id = $1 ORDER BY id", survivor_id)
    assert [r["event_type"].split(".")[-2] for r in logged] == ["registered", "registered", "merged", "updated"]
    # The other's e-mail is free again: it was dropped (the survivor kept its own).
    assert (
        await api.post("/api/v1/customers", json={"kind": "person", "given_name": "X", "email": other["email"]})
    ).status_code == 201

    events = await events_about(stack, survivor["id"], "registered", "merged", "updated")
    assert events["merged"][0]["merged_customer_id"] == other["id"]
    assert set(events["updated"][0]["changed_fields"]) == {
        "phone",
        "birth_date",
        "addresses",
        "lifecycle_stage",
        "tags",
        "custom_attributes",
    }
    assert events["updated"][0]["version"] == 2


async def test_merging_companies_moves_their_people(api: httpx.AsyncClient) -> None:
    word = marker("m")
    keep = await create(api, kind="company", legal_name=f"Keep {word}")
    gone = await create(api, kind="company", legal_name=f"Gone {word}", owner_id="agent-1")
    person = await create(api, given_name="Ewa", company_id=gone["id"])
    response = await merge(api, keep, gone["id"])
    assert response.status_code == 200, response.text
    assert response.json()["owner_id"] == "agent-1"
    assert (await api.get(f"/api/v1/customers/{person['id']}")).json()["company_id"] == keep["id"]
    found = (await api.get("/api/v1/customers", params={"q": f"keep {word}", "kind": "person"})).json()["items"]
    assert [c["id"] for c in found] == [person["id"]]


async def test_merge_of_identical_records_emits_no_update(
    stack: Stack, api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    survivor = await create(api, given_name="Jan", family_name=marker("m"))
    other = await create(api, given_name="Jan", family_name=survivor["family_name"])
    response = await merge(api, survivor, other["id"])
    assert response.status_code == 200 and response.json()["version"] == 2
    types = await db.fetch(
        "SELECT event_type FROM customer_event_log WHERE customer_id = $1 ORDER BY id", uuid.UUID(survivor["id"])
    )
    assert [r["event_type"].split(".")[-2] for r in types] == ["registered", "registered", "merged"]


async def test_bad_merges_change_nothing(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    survivor = await create(api, given_name="Anna")
    other = await create(api, given_name="Ola")
    company = await create(api, kind="company", legal_name="Acme")
    url = f"/api/v1/customers/{survivor['id']}/merge"

    body = problem(await merge(api, survivor, survivor["id"]), 422)
    assert body["errors"] == [{"field": "body.merge_customer_id", "message": "cannot merge a customer into itself"}]
    body = problem(await merge(api, survivor, str(uuid.uuid4())), 404)
    assert body["errors"][0]["field"] == "body.merge_customer_id"
    problem(
        await api.post(
            f"/api/v1/customers/{uuid.uuid4()}/merge",
            json={"merge_customer_id": other["id"]},
            headers={"If-Match": '"1"'},
        ),
        404,
    )
    assert problem(await merge(api, survivor, other["id"], etag='"7"'), 412)["errors"][0]["field"] == "header.If-Match"
    assert (
        problem(await api.post(url, json={"merge_customer_id": other["id"]}), 428)["errors"][0]["field"]
        == "header.If-Match"
    )
    assert problem(await merge(api, survivor, company["id"]), 422)["errors"][0]["field"] == "body.merge_customer_id"
    body = problem(
        await api.post(url, json={"merge_customer_id": "nope", "force": True}, headers={"If-Match": '"1"'}), 422
    )
    assert {e["field"] for e in body["errors"]} == {"body.merge_customer_id", "body.force"}
    assert (await api.post(f"/api/v1/customers/{other['id']}/erase")).status_code == 200
    assert problem(await merge(api, survivor, other["id"]), 409)["errors"][0]["field"] == "body.merge_customer_id"

    for customer in (survivor, other, company):
        assert await db.fetchval("SELECT version FROM customers WHERE id = $1", uuid.UUID(customer["id"])) == (
            2 if customer is other else 1
        )
    assert (
        await db.fetchval("SELECT count(*) FROM customer_event_log WHERE customer_id = $1", uuid.UUID(survivor["id"]))
        == 1
    )
