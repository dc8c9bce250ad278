"""Fixtures of the sales service's integration tests: an HTTP client on the service, a plain
connection to its database, a session factory on it and a broker producer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from relacja_devstack import Stack

from ...support import service_client, service_db


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with service_client(stack, "sales", timeout=20) as client:
        yield client


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    async with service_db(stack, "sales") as connection:
        yield connection


@pytest.fixture
async def sessions(stack: Stack) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(stack.database_url("sales"))
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()
