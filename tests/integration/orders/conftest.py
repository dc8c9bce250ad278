"""Fixtures of the orders service's integration tests: HTTP clients on the orders and
customers services of the test stack, and a plain connection to the orders database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from relacja_devstack import Stack

from ...support import service_client, service_db


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with service_client(stack, "orders", timeout=30) as client:
        yield client


@pytest.fixture
async def customers_api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with service_client(stack, "customers") as client:
        yield client


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    async with service_db(stack, "orders") as connection:
        yield connection
