"""Bad input through the gateway gets problem details; nothing a client sends is a 500."""

from __future__ import annotations

import uuid

import httpx

from relacja_devstack import Stack


def _problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


async def test_malformed_json_is_400(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post(
        "/api/v1/customers", content=b'{"kind": ', headers={"content-type": "application/json"}
    )
    _problem(response, 400)


async def test_wrong_types_and_unknown_fields_are_422_with_field_errors(gateway: httpx.AsyncClient) -> None:
    body = _problem(
        await gateway.post("/api/v1/customers", json={"kind": "robot", "display_name": 5, "shoe_size": 44}), 422
    )
    fields = {e["field"] for e in body["errors"]}
    assert {"body.kind", "body.display_name", "body.shoe_size"} <= fields


async def test_invalid_email_is_422(gateway: httpx.AsyncClient) -> None:
    body = _problem(
        await gateway.post("/api/v1/customers", json={"kind": "person", "display_name": "X", "email": "nope"}), 422
    )
    assert body["errors"][0]["field"] == "body.email"


async def test_oversized_body_is_413(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/api/v1/customers", json={"kind": "person", "display_name": "x" * 2_000_000})
    _problem(response, 413)


async def test_wrong_content_type_is_415(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/api/v1/customers", content=b"kind=person", headers={"content-type": "text/plain"})
    _problem(response, 415)


async def test_unknown_query_parameter_and_bad_cursor_are_400(gateway: httpx.AsyncClient) -> None:
    _problem(await gateway.get("/api/v1/customers", params={"colour": "red"}), 400)
    _problem(await gateway.get("/api/v1/customers", params={"cursor": "garbage"}), 400)
    _problem(await gateway.get("/api/v1/customers", params={"limit": 100000}), 400)


async def test_missing_customer_is_404_and_bad_id_is_400(gateway: httpx.AsyncClient) -> None:
    _problem(await gateway.get(f"/api/v1/customers/{uuid.uuid4()}"), 404)
    _problem(await gateway.get("/api/v1/customers/not-a-uuid"), 400)


async def test_no_token_is_401_and_wrong_scope_is_403(stack: Stack, anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/api/v1/customers")
    _problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    read_only = {"Authorization": f"Bearer {stack.token(['customers:read'])}"}
    _problem(
        await anonymous.post("/api/v1/customers", json={"kind": "person", "display_name": "X"}, headers=read_only), 403
    )


async def test_duplicate_email_is_409_naming_the_existing_customer(gateway: httpx.AsyncClient) -> None:
    email = f"dup.{uuid.uuid4().hex[:8]}@example.com"
    first = (
        await gateway.post("/api/v1/customers", json={"kind": "person", "display_name": "A", "email": email})
    ).json()
    body = _problem(
        await gateway.post("/api/v1/customers", json={"kind": "person", "display_name": "B", "email": email.upper()}),
        409,
    )
    assert body["existing_id"] == first["id"]


async def test_idempotency_key_replays_the_first_response_and_rejects_another_body(gateway: httpx.AsyncClient) -> None:
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"kind": "company", "display_name": "Acme", "email": f"acme.{uuid.uuid4().hex[:8]}@example.com"}
    first = await gateway.post("/api/v1/customers", json=body, headers=key)
    again = await gateway.post("/api/v1/customers", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    _problem(await gateway.post("/api/v1/customers", json=body | {"display_name": "Other"}, headers=key), 422)


async def test_list_is_cursor_paginated_without_gaps(gateway: httpx.AsyncClient) -> None:
    tag = f"page-{uuid.uuid4().hex[:8]}"
    created = set()
    for i in range(7):
        response = await gateway.post(
            "/api/v1/customers", json={"kind": "person", "display_name": f"Page {i}", "tags": [tag]}
        )
        created.add(response.json()["id"])
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 3, "tag": tag}
        if cursor:
            params["cursor"] = cursor
        page = (await gateway.get("/api/v1/customers", params=params)).json()
        assert len(page["items"]) <= 3
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen))
    assert set(seen) == created
