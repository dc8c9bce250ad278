"""Fixtures for the messaging integration tests: a scratch database on the stack's
PostgreSQL with the messaging tables, and Kafka clients on the stack's broker."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import Column, MetaData, Table, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from relacja_devstack import Stack
from relacja_messaging.kafka import producer_options
from relacja_messaging.migrations import create_messaging_tables

effects_metadata = MetaData()

# What the test handlers write: one row per applied event, so a test can count effects.
effects = Table(
    "it_effects",
    effects_metadata,
    Column("event_id", Text, primary_key=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("consumer", Text, nullable=False),
)


@pytest.fixture
async def scratch_engine(stack: Stack) -> AsyncIterator[AsyncEngine]:
    name = f"it_{uuid.uuid4().hex[:12]}"
    admin_dsn = stack.postgres_dsn.rsplit("/", 1)[0] + "/postgres"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    engine = create_async_engine(stack.database_url("customers").rsplit("/", 1)[0] + f"/{name}")
    async with engine.begin() as conn:
        await conn.run_sync(create_messaging_tables)
        await conn.run_sync(effects_metadata.create_all)
    try:
        yield engine
    finally:
        await engine.dispose()
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
def sessions(scratch_engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(scratch_engine, expire_on_commit=False)


@pytest.fixture
async def producer(stack: Stack) -> AsyncIterator[AIOKafkaProducer]:
    client = AIOKafkaProducer(**producer_options(stack.bootstrap_servers))
    await client.start()
    try:
        yield client
    finally:
        await client.stop()
