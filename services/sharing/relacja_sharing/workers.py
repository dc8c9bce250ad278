"""The sharing service's background work (started by main.py).

retention_worker  feed records and disclosures past their retention (``feed_retention_days``,
                  ``disclosure_retention_days``) are purged by age
webhook_worker    the shared webhook sender's DeliveryWorker over this database's queue, with the
                  service's hooks (disclosure log, endpoint-disabled event); finished messages past
                  ``webhook_log_retention_days`` are purged with their attempts
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from relacja_webhooks import DeliveryWorker, WebhookSender, WorkerSettings

from .app.disclosures import purge_disclosures, purge_feed
from .app.webhooks import SharingDeliveryHooks, purge_webhook_log
from .settings import SharingSettings
from .tables import webhooks

__all__ = ["retention_worker", "webhook_worker"]


def retention_worker(
    sessions: async_sessionmaker[AsyncSession],
    *,
    feed_retention: timedelta,
    disclosure_retention: timedelta,
    interval_seconds: float,
    webhook_log_retention: timedelta | None = None,
) -> Callable[[], Awaitable[None]]:
    async def work() -> None:
        while True:
            async with sessions() as session, session.begin():
                await purge_feed(session, feed_retention)
                await purge_disclosures(session, disclosure_retention)
                if webhook_log_retention is not None:
                    await purge_webhook_log(session, webhook_log_retention)
            await asyncio.sleep(interval_seconds)

    return work


def webhook_worker(
    sessions: async_sessionmaker[AsyncSession], settings: SharingSettings
) -> Callable[[], Awaitable[None]]:
    async def work() -> None:
        sender = WebhookSender(settings.url_policy(), timeout=settings.webhook_timeout_seconds)
        worker = DeliveryWorker(
            sessions,
            webhooks,
            sender,
            retry=settings.retry_policy(),
            hooks=SharingDeliveryHooks(),
            settings=WorkerSettings(
                max_in_flight=settings.webhook_max_in_flight,
                claim_batch=settings.webhook_max_in_flight,
                poll_interval=settings.webhook_poll_interval_seconds,
                idle_poll_interval=settings.webhook_idle_poll_interval_seconds,
                lease=timedelta(seconds=settings.webhook_timeout_seconds * 4),
            ),
        )
        try:
            await worker.run()
        finally:
            await sender.aclose()

    return work
