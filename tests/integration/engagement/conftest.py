"""Fixtures of the engagement integration tests: HTTP clients on the engagement, customers,
loyalty and orders services of the test stack, the engagement database, a Kafka producer
(events of other services and redeliveries), and ``open_policy``: no quiet hours and a cap
of 2 marketing e-mails per 7 days while a test runs (the policy it found is put back after)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from relacja_devstack import Stack
from relacja_messaging.kafka import producer_options

from ...support import service_client, service_db
from .support import MADE_TRIGGERS


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with service_client(stack, "engagement", timeout=30) as client:
        yield client


@pytest.fixture
async def customers_api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with service_client(stack, "customers", timeout=30) as client:
        yield client


@pytest.fixture
async def loyalty_api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with service_client(stack, "loyalty", timeout=30) as client:
        yield client


@pytest.fixture
async def orders_api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with service_client(stack, "orders", timeout=30) as client:
        yield client


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    async with service_db(stack, "engagement") as connection:
        yield connection


@pytest.fixture
async def producer(stack: Stack) -> AsyncIterator[AIOKafkaProducer]:
    client = AIOKafkaProducer(**producer_options(stack.bootstrap_servers))
    await client.start()
    try:
        yield client
    finally:
        await client.stop()


async def put_policy(api: httpx.AsyncClient, body: dict) -> dict:
    current = await api.get("/api/v1/engagement/policy")
    assert current.status_code == 200, current.text
    changed = await api.put("/api/v1/engagement/policy", json=body, headers={"If-Match": current.headers["ETag"]})
    assert changed.status_code == 200, changed.text
    return changed.json()


@pytest.fixture
async def open_policy(api: httpx.AsyncClient) -> AsyncIterator[dict]:
    """No quiet hours and 2 e-mails / 7 days while the test runs; afterwards the policy it
    found is put back and the triggers it made are disabled (a later test's birthdays must
    not fire them)."""
    before = (await api.get("/api/v1/engagement/policy")).json()
    policy = await put_policy(
        api, {"quiet_hours": None, "caps": [{"channel": "email", "max_messages": 2, "window_days": 7}]}
    )
    try:
        yield policy
    finally:
        await put_policy(api, {"quiet_hours": before["quiet_hours"], "caps": before["caps"]})
        while MADE_TRIGGERS:
            disabled = await api.post(f"/api/v1/engagement/triggers/{MADE_TRIGGERS.pop()}/disable")
            assert disabled.status_code in (200, 409), disabled.text
