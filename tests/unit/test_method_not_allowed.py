"""405 as the resource really is: ``Allow`` names every method of the path, and a fixed
path's missing method is 405 even where a templated route would take it
(``relacja_servicekit.methods``; found by schemathesis' ``--checks all``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Header

from relacja_servicekit import ServiceSettings, create_service_app

router = APIRouter(prefix="/api/v1/things")


@router.get("/settings")
async def read_settings() -> dict[str, str]:
    return {"settings": "yes"}


@router.get("/{thing_id}")
async def read_thing(thing_id: str) -> dict[str, str]:
    return {"id": thing_id}


@router.patch("/{thing_id}")
async def change_thing(thing_id: str, if_match: Annotated[str, Header()]) -> dict[str, str]:
    return {"id": thing_id, "changed": "yes"}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    app = create_service_app(name="test", title="test", settings=settings, routers=[router])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def _method_not_allowed(response: httpx.Response, allow: str) -> None:
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allow
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"].endswith("method-not-allowed") and body["instance"] == response.request.url.path
    assert allow in body["detail"] and response.request.method in body["detail"]
    assert response.headers["x-request-id"] == body["request_id"]


async def test_allow_names_every_method_of_a_templated_path(client: httpx.AsyncClient) -> None:
    _method_not_allowed(await client.options("/api/v1/things/42"), "GET, PATCH")
    _method_not_allowed(await client.delete("/api/v1/things/42"), "GET, PATCH")


async def test_a_fixed_path_answers_405_for_a_method_only_the_template_has(client: httpx.AsyncClient) -> None:
    # Without the middleware this PATCH reached change_thing(thing_id="settings"): 428/422.
    _method_not_allowed(await client.patch("/api/v1/things/settings", json={}), "GET")
    _method_not_allowed(await client.options("/api/v1/things/settings"), "GET")


async def test_the_methods_a_path_has_still_work(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/things/settings")).json() == {"settings": "yes"}
    assert (await client.get("/api/v1/things/42")).json() == {"id": "42"}
    changed = await client.patch("/api/v1/things/42", headers={"If-Match": '"1"'})
    assert changed.json() == {"id": "42", "changed": "yes"}


async def test_the_gateways_own_paths_answer_405_not_the_proxys_404() -> None:
    from relacja_gateway.app import create_app
    from relacja_gateway.settings import GatewaySettings

    transport = httpx.ASGITransport(app=create_app(GatewaySettings()), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as gateway:
        for path in ("/healthz", "/readyz", "/metrics"):
            _method_not_allowed(await gateway.put(path), "GET")
