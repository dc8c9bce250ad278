"""Fixtures of the loyalty service's integration tests: HTTP clients on the loyalty, orders
and customers services of the test stack, plain connections to the loyalty and orders
databases, and a Kafka producer for redelivering events."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from relacja_devstack import Stack
from relacja_messaging.kafka import producer_options

from ...support import service_client, service_db


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with service_client(stack, "loyalty", timeout=30) as client:
        yield client


@pytest.fixture
async def orders_api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with service_client(stack, "orders", timeout=30) as client:
        yield client


@pytest.fixture
async def customers_api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with service_client(stack, "customers") as client:
        yield client


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    async with service_db(stack, "loyalty") as connection:
        yield connection


@pytest.fixture
async def orders_db(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    async with service_db(stack, "orders") as connection:
        yield connection


@pytest.fixture
async def producer(stack: Stack) -> AsyncIterator[AIOKafkaProducer]:
    client = AIOKafkaProducer(**producer_options(stack.bootstrap_servers))
    await client.start()
    try:
        yield client
    finally:
        await client.stop()
