"""Helpers for the gateway's end-to-end tests: a second gateway in this process with its
own settings, pointing at the running stack's services, and doubles for broken services."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx

from relacja_devstack import Stack
from relacja_gateway.app import create_app
from relacja_gateway.settings import GatewaySettings

__all__ = ["RecordingTransport", "closed_port", "hanging_server", "inprocess_gateway"]


class RecordingTransport(httpx.AsyncBaseTransport):
    """The real network, with every request the gateway sends recorded on the way."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@contextlib.asynccontextmanager
async def inprocess_gateway(
    stack: Stack,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    upstreams: dict[str, str] | None = None,
    **settings: Any,
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a gateway app running in this process (ASGI, no port) whose upstream
    calls go to the stack's real services (or to ``upstreams`` added on top)."""
    values: dict[str, Any] = {
        "environment": "test",
        "jwt_secret": stack.config.jwt_secret,
        "upstreams": {
            "customers": stack.service_url("customers"),
            "segmentation": stack.service_url("segmentation"),
            **(upstreams or {}),
        },
        "openapi_fetch_at_start": False,
    }
    app = create_app(GatewaySettings(**(values | settings)), transport=transport)
    async with app.router.lifespan_context(app):
        asgi = httpx.ASGITransport(app=app, client=("198.51.100.9", 40000))
        async with httpx.AsyncClient(transport=asgi, base_url="http://gateway.test", timeout=15) as client:
            yield client


def closed_port() -> int:
    """A local port nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.asynccontextmanager
async def hanging_server() -> AsyncIterator[str]:
    """A service that accepts connections and reads requests but never answers."""
    connections: list[asyncio.StreamWriter] = []
    done = asyncio.Event()

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        with contextlib.suppress(Exception):
            await reader.read(65536)
            await done.wait()

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        done.set()
        for writer in connections:
            writer.close()
        server.close()
