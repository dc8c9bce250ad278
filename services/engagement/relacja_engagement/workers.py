"""The sender worker (started by main.py where the consumers run): every
``sender_interval_seconds`` it sends what is due (``app/sending.py``), one transaction per
batch, and goes on at once while batches come back full."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .app.delivery import Mailer, Outgoing, ProviderHooks
from .app.peers import Peers
from .app.sending import PassResult, send_due
from .settings import EngagementSettings

__all__ = ["Sender", "sender_worker"]


class Sender:
    """The transports and peers of the send path, opened once per process."""

    def __init__(self, settings: EngagementSettings) -> None:
        self.settings = settings
        self.mailer = Mailer(settings)
        self.hooks = ProviderHooks(settings)
        self.peers = Peers(settings.customers_url, settings.loyalty_url, settings.customers_timeout_seconds * 5)

    async def run_once(self, sessions: async_sessionmaker[AsyncSession], now: datetime | None = None) -> PassResult:
        s = self.settings
        async with sessions() as session, session.begin():
            return await send_due(
                session,
                now=now or datetime.now(UTC),
                batch_size=s.sender_batch_size,
                peers=self.peers,
                transports={"email": self.mailer, "sms": self.hooks, "push": self.hooks},
                default_time_zone=s.default_time_zone,
                max_attempts=s.max_attempts,
                retry_base_seconds=s.retry_base_seconds,
                make_outgoing=Outgoing,
            )

    async def aclose(self) -> None:
        await self.mailer.aclose()
        await self.hooks.aclose()
        await self.peers.aclose()


def sender_worker(
    sessions: async_sessionmaker[AsyncSession], settings: EngagementSettings
) -> Callable[[], Awaitable[None]]:
    async def work() -> None:
        sender = Sender(settings)
        try:
            while True:
                result = await sender.run_once(sessions)
                if result.claimed < settings.sender_batch_size:
                    await asyncio.sleep(settings.sender_interval_seconds)
        finally:
            await sender.aclose()

    return work
