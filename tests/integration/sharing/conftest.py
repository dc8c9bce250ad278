"""Fixtures of the sharing service's integration tests: an HTTP client on the service, a
plain connection to its database, and helpers that play staff and partner."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from relacja_devstack import Stack

from ...support import service_client, service_db


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with service_client(stack, "sharing", timeout=30) as client:
        yield client


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    async with service_db(stack, "sharing") as connection:
        yield connection
