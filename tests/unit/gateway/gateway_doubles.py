"""Test doubles for the gateway tests: the services behind it, and the settings it runs with.

A module with a unique name rather than conftest.py contents, so test modules can import
it without depending on which ``conftest`` module pytest loaded last.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
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
