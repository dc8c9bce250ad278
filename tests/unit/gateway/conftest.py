"""Fixtures for the gateway's unit tests.

``gateway`` builds the real gateway app with the network replaced: the shared upstream
client gets an ``httpx.MockTransport`` whose handler plays the services, and the test
talks to the gateway through ``httpx.ASGITransport``. Nothing listens on a port.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from gateway_doubles import SECRET, Upstream, make_settings

from relacja_gateway.app import create_app
from relacja_gateway.tokens import mint_token


@pytest.fixture
def upstream() -> Upstream:
    return Upstream()


@pytest.fixture
def token() -> Callable[..., str]:
    def mint(*scopes: str, subject: str = "user-1", secret: str = SECRET) -> str:
        return mint_token(secret, subject, list(scopes), 300)

    return mint


@pytest.fixture
def gateway(upstream: Upstream) -> Callable[..., Any]:
    """``async with gateway(**settings) as client`` — a client of a started gateway."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(make_settings(**overrides), transport=httpx.MockTransport(upstream))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
                yield client

    return start
