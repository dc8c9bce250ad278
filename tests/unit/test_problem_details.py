"""Bad input gets RFC 9457 problem details, never a bare 500 or a stack trace.

Exercises a service app built by ``create_service_app`` at the ASGI level; the routes
here touch neither database nor broker.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from relacja_servicekit import ServiceSettings, create_service_app
from relacja_servicekit.validation import RequireJson


class Thing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    count: int


router = APIRouter(prefix="/api/v1/things", dependencies=[RequireJson])


@router.post("", status_code=201)
async def create_thing(thing: Thing) -> Thing:
    return thing


@router.get("")
async def list_things(status: str | None = None) -> list[str]:
    return [status or "all"]


@router.get("/boom")
async def boom() -> None:
    raise RuntimeError("secret internal detail at /srv/app.py line 3")


@router.get("/db-down")
async def db_down() -> None:
    raise ConnectionRefusedError("connect to 10.0.0.5:5432 refused")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none", max_body_bytes=2048)
    app = create_service_app(name="test", title="test", settings=settings, routers=[router])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def _is_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"]
    assert body["instance"] == response.request.url.path
    return body


async def test_valid_request_passes(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/things", json={"name": "a", "count": 1})
    assert response.status_code == 201
    assert response.headers["x-request-id"]


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/things", content=b'{"name": "a", ', headers={"content-type": "application/json"}
    )
    body = _is_problem(response, 400)
    assert body["type"].endswith("malformed-json")


async def test_wrong_types_are_422_with_field_errors(client: httpx.AsyncClient) -> None:
    body = _is_problem(await client.post("/api/v1/things", json={"name": "a", "count": "many"}), 422)
    assert {"field": "body.count", "message": body["errors"][0]["message"]} in body["errors"]


async def test_unknown_fields_are_422(client: httpx.AsyncClient) -> None:
    body = _is_problem(await client.post("/api/v1/things", json={"name": "a", "count": 1, "colour": "red"}), 422)
    assert [e["field"] for e in body["errors"]] == ["body.colour"]


async def test_missing_fields_are_422(client: httpx.AsyncClient) -> None:
    body = _is_problem(await client.post("/api/v1/things", json={}), 422)
    assert {e["field"] for e in body["errors"]} == {"body.name", "body.count"}


async def test_non_json_content_type_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/things", content=b"name=a", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    _is_problem(response, 415)


async def test_oversized_body_is_413_by_content_length(client: httpx.AsyncClient) -> None:
    _is_problem(await client.post("/api/v1/things", json={"name": "x" * 5000, "count": 1}), 413)


async def test_oversized_chunked_body_is_413_while_streaming(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'", "count": 1}'

    response = await client.post("/api/v1/things", content=chunks(), headers={"content-type": "application/json"})
    _is_problem(response, 413)


async def test_unknown_query_parameter_is_400(client: httpx.AsyncClient) -> None:
    body = _is_problem(await client.get("/api/v1/things", params={"stauts": "open"}), 400)
    assert body["errors"] == [{"field": "query.stauts", "message": "unknown parameter"}]
    assert (await client.get("/api/v1/things", params={"status": "open"})).json() == ["open"]


async def test_unknown_route_is_404_problem(client: httpx.AsyncClient) -> None:
    _is_problem(await client.get("/api/v1/nothing-here"), 404)


async def test_unexpected_error_is_500_without_internals(client: httpx.AsyncClient) -> None:
    body = _is_problem(await client.get("/api/v1/things/boom"), 500)
    assert "secret" not in str(body) and "/srv" not in str(body)
    assert body["request_id"]


async def test_unreachable_dependency_is_503_with_retry_after(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/things/db-down")
    body = _is_problem(response, 503)
    assert response.headers["retry-after"] == "5"
    assert "10.0.0.5" not in str(body)


async def test_request_id_is_echoed_and_trace_continued(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/things",
        headers={"x-request-id": "req-42", "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
    )
    assert response.headers["x-request-id"] == "req-42"
    assert response.headers["traceparent"].startswith("00-4bf92f3577b34da6a3ce929d0e0e4736-")


class Note(BaseModel):
    title: str
    tags: list[str] = []
    attributes: dict[str, str] = {}


notes = APIRouter(prefix="/api/v1/notes")


@notes.post("", status_code=201)
async def create_note(note: Note) -> Note:
    return note


@notes.get("/{name}")
async def get_note(name: str, q: str | None = None) -> dict[str, str]:
    return {"name": name, "q": q or ""}


@pytest.fixture
async def notes_client() -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    app = create_service_app(name="test", title="test", settings=settings, routers=[notes])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"title": "a\\u0000b"}', "body.title"),
        ('{"title": "ok", "tags": ["\\u0000R"]}', "body.tags.0"),
        ('{"title": "\\ud800"}', "body.title"),
        ('{"title": "ok", "attributes": {"k": "\\uDFFF tail"}}', "body.attributes.k"),
    ],
)
async def test_nul_and_lone_surrogates_in_a_body_are_422_naming_the_field(
    notes_client: httpx.AsyncClient, body: str, field: str
) -> None:
    response = await notes_client.post(
        "/api/v1/notes", content=body.encode(), headers={"content-type": "application/json"}
    )
    problem = _is_problem(response, 422)
    assert [error["field"] for error in problem["errors"]] == [field]


async def test_paired_surrogates_and_escaped_text_are_accepted(notes_client: httpx.AsyncClient) -> None:
    # "\ud83d\ude00" is one emoji; "\\u0000" is the six characters \u0000, not a NUL.
    body = '{"title": "smile \\ud83d\\ude00", "tags": ["\\\\u0000"]}'
    response = await notes_client.post(
        "/api/v1/notes", content=body.encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert response.json() == {"title": "smile \U0001f600", "tags": ["\\u0000"], "attributes": {}}


async def test_nul_in_a_query_or_path_parameter_is_400_naming_it(notes_client: httpx.AsyncClient) -> None:
    problem = _is_problem(await notes_client.get("/api/v1/notes/x", params={"q": "a\x00b"}), 400)
    assert problem["errors"][0]["field"] == "query.q"
    problem = _is_problem(await notes_client.get("/api/v1/notes/a%00b"), 400)
    assert problem["errors"][0]["field"] == "path.name"
