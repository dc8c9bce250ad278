"""Fixtures of the webhook sender's integration tests: a scratch database on the stack's
PostgreSQL holding the webhook tables, a real HTTP receiver on loopback, and a running worker."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pytest
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from relacja_webhooks import (
    DeliveredMessage,
    DeliveryWorker,
    RetryPolicy,
    UrlPolicy,
    WebhookSender,
    WebhookTables,
    WorkerSettings,
    webhook_tables,
)
from relacja_webhooks.migrations import create_webhook_tables

from ...webhook_receiver import WebhookReceiver

TABLES = webhook_tables(MetaData(), prefix="webhook")
#: The operator setting of the local stack and the tests: plain http and loopback receivers.
LOCAL = UrlPolicy(allow_http=True, allow_loopback=True)
#: The schedule 1,000 times faster: 5 ms, 300 ms, 1.8 s, ...
FAST = RetryPolicy().compressed(0.001)


@dataclass
class RecordingHooks:
    delivered_messages: list[DeliveredMessage] = field(default_factory=list)
    disabled: list[tuple[uuid.UUID, str]] = field(default_factory=list)

    async def delivered(self, session: AsyncSession, messages: Sequence[DeliveredMessage]) -> None:
        self.delivered_messages.extend(messages)

    async def endpoint_disabled(self, session: AsyncSession, endpoint_id: uuid.UUID, reason: str, at: datetime) -> None:
        self.disabled.append((endpoint_id, reason))


@pytest.fixture
async def wh_sessions(scratch_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    async with scratch_engine.begin() as conn:
        await conn.run_sync(lambda bind: create_webhook_tables(bind, TABLES))
    return async_sessionmaker(scratch_engine, expire_on_commit=False)


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as running:
        yield running


@contextlib.asynccontextmanager
async def running_worker(
    sessions: async_sessionmaker[AsyncSession],
    *,
    tables: WebhookTables = TABLES,
    policy: UrlPolicy = LOCAL,
    retry: RetryPolicy = FAST,
    hooks: RecordingHooks | None = None,
    settings: WorkerSettings | None = None,
    workers: int = 1,
) -> AsyncIterator[list[DeliveryWorker]]:
    sender = WebhookSender(policy, timeout=5.0)
    running = [
        DeliveryWorker(
            sessions,
            tables,
            sender,
            retry=retry,
            hooks=hooks,
            settings=settings or WorkerSettings(poll_interval=0.02),
        )
        for _ in range(workers)
    ]
    tasks = [asyncio.create_task(w.run()) for w in running]
    try:
        yield running
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await sender.aclose()
