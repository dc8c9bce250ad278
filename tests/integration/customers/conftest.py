"""Fixtures shared by the customers service's integration tests: an HTTP client on the
service, a plain connection to its database and a session factory on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from relacja_devstack import Stack

from ...support import service_client, service_db


@pytest.fixture
def api_timeout() -> float:
    """Seconds the ``api`` client waits; a module overrides it for slow requests."""
    return 10


@pytest.fixture
async def api(stack: Stack, api_timeout: float) -> AsyncIterator[httpx.AsyncClient]:
    async with service_client(stack, "customers", timeout=api_timeout) as client:
        yield client


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    async with service_db(stack, "customers") as connection:
        yield connection


@pytest.fixture
async def sessions(stack: Stack) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(stack.database_url("customers"))
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()
