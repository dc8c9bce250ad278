"""Fixtures of the orders service's integration tests: HTTP clients on the orders and
customers services of the test stack, and a plain connection to the orders database."""

from __future__ import annotations

from typing import AsyncIterator

import asyncpg
import httpx
import pytest

from relacja_devstack import Stack


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.service_url("orders"), timeout=30) as client:
        yield client


@pytest.fixture
async def customers_api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.service_url("customers"), timeout=10) as client:
        yield client


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(stack.database_url("orders").replace("+asyncpg", ""))
    try:
        yield connection
    finally:
        await connection.close()
