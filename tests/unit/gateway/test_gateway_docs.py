"""The documentation pages: /docs and its assets served by the gateway itself, the
bundled AsyncAPI document at /asyncapi.json and its HTML page at /docs/events; and the
services' own apps, which keep /openapi.json but have no CDN-backed /docs.

The real browser test is tests/e2e/test_docs_browser.py; here the HTML is parsed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from gateway_doubles import Page, local_refs, resolves, same_origin

from relacja_contracts import ALL_TOPICS, EVENT_TYPES
from relacja_contracts.asyncapi import CONTRACTS_DIR
from relacja_gateway.catalogue import bundle, event_entries, render_catalogue
from relacja_gateway.docs import ASSETS, ASSETS_PATH
from relacja_servicekit import ServiceSettings, create_service_app


async def test_swagger_ui_loads_only_from_the_gateway(gateway: Callable[..., Any]) -> None:
    async with gateway() as client:
        page = await client.get("/docs")
        assets = {name: await client.get(f"{ASSETS_PATH}/{name}") for name in ASSETS}
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    urls = Page(page.text).urls
    assert urls and all(same_origin(url) for url in urls), urls
    assert {
        f"{ASSETS_PATH}/swagger-ui-bundle.js",
        f"{ASSETS_PATH}/swagger-ui.css",
        "/docs/events",
        "/asyncapi.json",
    } <= set(urls)
    assert "url: '/openapi.json'" in page.text
    assert '"validatorUrl": null' in page.text  # no badge image from validator.swagger.io
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name, response in assets.items():
        assert response.status_code == 200, name
        assert response.headers["content-type"].split(";")[0] == ASSETS[name]
        assert response.headers["cache-control"] == "public, max-age=86400"
    assert b"SwaggerUIBundle" in assets["swagger-ui-bundle.js"].content
    assert b".swagger-ui" in assets["swagger-ui.css"].content
    assert assets["favicon.png"].content.startswith(b"\x89PNG")


# redoc.standalone.js is in the same folder of the package, but not one of ASSETS.
@pytest.mark.parametrize("name", ["redoc.standalone.js", "nothing.js"])
async def test_only_the_named_assets_are_served(gateway: Callable[..., Any], upstream: Any, name: str) -> None:
    async with gateway() as client:
        response = await client.get(f"{ASSETS_PATH}/{name}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "urn:relacja:problem:not-found"
    assert upstream.requests == []  # answered by the gateway, not proxied


async def test_the_asyncapi_document_is_the_checked_in_one_in_one_file(gateway: Callable[..., Any]) -> None:
    async with gateway() as client:
        response = await client.get("/asyncapi.json")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    document = response.json()
    checked_in = json.loads((CONTRACTS_DIR / "asyncapi.json").read_text())
    schemas = {
        path.name.removesuffix(".json"): json.loads(path.read_text())
        for path in (CONTRACTS_DIR / "schemas").glob("*.json")
    }
    assert document == bundle(checked_in, schemas)
    assert document["asyncapi"] == "3.0.0"
    references = local_refs(document)
    assert references and all(ref.startswith("#/") and resolves(document, ref) for ref in references), [
        ref for ref in references if not ref.startswith("#/") or not resolves(document, ref)
    ]
    payloads = {message["name"]: message["payload"] for message in document["components"]["messages"].values()}
    assert set(payloads) == set(EVENT_TYPES)


def test_bundle_moves_payloads_in_and_rebases_their_definitions() -> None:
    document: dict[str, Any] = {
        "components": {
            "messages": {"a_v1": {"name": "a.v1", "payload": {"$ref": "./schemas/a.v1.json"}}},
            "schemas": {"Headers": {"type": "object"}},
        }
    }
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {"line": {"$ref": "#/$defs/Line"}, "lines": {"type": "array", "items": {"$ref": "#/$defs/Line"}}},
        "$defs": {
            "Line": {"type": "object", "properties": {"next": {"anyOf": [{"$ref": "#/$defs/Line"}, {"type": "null"}]}}}
        },
    }
    bundled = bundle(document, {"a.v1": schema})
    assert bundled["components"]["messages"]["a_v1"]["payload"] == {"$ref": "#/components/schemas/a_v1"}
    moved = bundled["components"]["schemas"]["a_v1"]
    assert moved["properties"]["line"] == {"$ref": "#/components/schemas/a_v1/$defs/Line"}
    assert moved["properties"]["lines"]["items"] == {"$ref": "#/components/schemas/a_v1/$defs/Line"}
    assert moved["$defs"]["Line"]["properties"]["next"]["anyOf"][0] == {"$ref": "#/components/schemas/a_v1/$defs/Line"}
    assert all(resolves(bundled, ref) for ref in local_refs(bundled))
    assert document["components"]["messages"]["a_v1"]["payload"] == {"$ref": "./schemas/a.v1.json"}  # input untouched
    assert schema["properties"]["line"] == {"$ref": "#/$defs/Line"}


@pytest.mark.parametrize(
    ("payload", "schemas"),
    [({"$ref": "./schemas/a.v1.json"}, {}), ({"$ref": "https://example.org/a.json"}, {"a.v1": {}}), ({}, {"a.v1": {}})],
)
def test_bundle_refuses_a_payload_it_cannot_place(payload: dict[str, str], schemas: dict[str, Any]) -> None:
    document = {"components": {"messages": {"a_v1": {"name": "a.v1", "payload": payload}}}}
    with pytest.raises(ValueError, match="a_v1"):
        bundle(document, schemas)


async def test_the_event_catalogue_lists_every_event_with_topic_version_and_fields(gateway: Callable[..., Any]) -> None:
    async with gateway() as client:
        response = await client.get("/docs/events")
        document = (await client.get("/asyncapi.json")).json()
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    page = Page(response.text)
    assert "script" not in page.tags
    assert all(same_origin(url) for url in page.urls), page.urls
    assert "/docs" in page.urls and "/asyncapi.json" in page.urls
    for topic in ALL_TOPICS:
        assert f"<code>{topic.name}</code>" in response.text
    entries = {entry.type: entry for entry in event_entries(document)}
    assert set(entries) == set(EVENT_TYPES)
    for event_type, model in EVENT_TYPES.items():
        entry = entries[event_type]
        assert entry.topic == model.topic.name and entry.version == event_type.rsplit(".", 1)[1]
        assert entry.key in page.ids and f"#{entry.key}" in page.urls
        assert f'<code class="event-type">{event_type}</code>' in response.text
        for field in model.model_fields:
            assert f"<code>{field}</code>" in response.text
    placed = entries["relacja.orders.order.placed.v1"]
    assert placed.topic == "relacja.orders" and placed.version == "v1"
    assert f"{placed.key}.OrderLine" in page.ids  # a nested model gets its own table
    assert f"#{placed.key}.OrderLine" in page.urls  # and the field of that type links to it


def test_the_catalogue_escapes_what_the_document_says() -> None:
    document = {
        "info": {"title": "<b>t</b>", "description": "<script>alert(1)</script>"},
        "channels": {
            "x": {"address": "x", "description": "d&d", "messages": {"m": {"$ref": "#/components/messages/m"}}}
        },
        "components": {
            "messages": {"m": {"name": "x.m.v2", "title": "M", "payload": {"$ref": "#/components/schemas/m"}}},
            "schemas": {
                "m": {"description": "<img src=x>", "properties": {"<f>": {"type": "string", "description": "</td>"}}}
            },
        },
    }
    html = render_catalogue(document)
    assert "<script>" not in html and "<img" not in html and "<b>t</b>" not in html
    assert "&lt;script&gt;" in html and "&lt;f&gt;" in html and "d&amp;d" in html
    assert event_entries(document)[0].version == "v2"


async def test_a_service_has_its_openapi_document_but_no_cdn_pages() -> None:
    settings = ServiceSettings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    app = create_service_app(name="test", title="test", settings=settings, routers=[])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service.test") as client:
        document = await client.get("/openapi.json")
        docs = await client.get("/docs")
        redoc = await client.get("/redoc")
    assert document.status_code == 200 and document.json()["info"]["title"] == "test"
    assert docs.status_code == 404 and redoc.status_code == 404
