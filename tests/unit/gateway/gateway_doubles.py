"""Test doubles for the gateway tests: the services behind it, and the settings it runs with;
and what the documentation tests check pages and documents with.

A module with a unique name rather than conftest.py contents, so test modules can import
it without depending on which ``conftest`` module pytest loaded last.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from html.parser import HTMLParser
from typing import Any

import httpx

from relacja_gateway.settings import GatewaySettings

SECRET = "unit-test-secret-that-is-long-enough-for-hs256"
UPSTREAMS = {
    "customers": "http://customers.internal:8101",
    "segmentation": "http://segmentation.internal:8102",
    "tickets": "http://tickets.internal:8103",
}
WITH_ORDERS = UPSTREAMS | {"orders": "http://orders.internal:8104"}

Handler = Callable[[httpx.Request], "httpx.Response | Awaitable[httpx.Response]"]


class Upstream:
    """The services behind the gateway: records every request, answers with ``handler``
    (a plain or an async function, so a service can be made slow)."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.handler: Handler = lambda request: httpx.Response(200, json={"ok": True})

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = self.handler(request)
        if inspect.isawaitable(response):
            response = await response
        if response.is_stream_consumed:
            # httpx.Response(content=...) reads its body at once; a response off the wire
            # has not been read yet, and the gateway streams it raw.
            return httpx.Response(
                response.status_code, headers=response.headers.raw, stream=httpx.ByteStream(response.content)
            )
        return response

    @property
    def last(self) -> httpx.Request:
        assert self.requests, "the upstream was not called"
        return self.requests[-1]


def make_settings(**overrides: Any) -> GatewaySettings:
    # No OpenAPI fetch at start: tests count the requests the services receive.
    values: dict[str, Any] = {
        "environment": "test",
        "jwt_secret": SECRET,
        "upstreams": UPSTREAMS,
        "max_body_bytes": 4096,
        "openapi_fetch_at_start": False,
    }
    values.update(overrides)
    return GatewaySettings(**values)


class Page(HTMLParser):
    """The URLs a page makes a browser load or offer (src, href), and its elements' ids."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.ids: set[str] = set()
        self.tags: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.urls.append(value)
            if name == "id" and value is not None:
                self.ids.add(value)


def same_origin(url: str) -> bool:
    # "/x" and "#x" stay on the gateway; "//host/x" and "https://host/x" do not.
    return url.startswith("#") or (url.startswith("/") and not url.startswith("//"))


def local_refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [value for key, value in node.items() if key == "$ref"] + [
            ref for value in node.values() for ref in local_refs(value)
        ]
    if isinstance(node, list):
        return [ref for item in node for ref in local_refs(item)]
    return []


def resolves(document: dict[str, Any], reference: str) -> bool:
    node: Any = document
    for part in reference.removeprefix("#/").split("/"):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True
