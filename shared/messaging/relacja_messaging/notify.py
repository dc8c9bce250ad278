"""Sleep until PostgreSQL says there is work: ``LISTEN`` on a channel, with a slow poll as the net.

    notifications = Notifications(engine, "relacja_outbox")
    listener = asyncio.create_task(notifications.listen())
    ...
    woken = await notifications.wait(idle_timeout=30, fallback_timeout=1)

A writer sends ``NOTIFY <channel>`` (``pg_notify``, or a trigger) in its transaction;
PostgreSQL delivers it at commit to every listening connection, of every replica. The
listening connection is a plain asyncpg connection outside the pool (a pooled one would
be handed to requests). If it drops, ``listen`` reconnects every ``retry_interval``
seconds, and ``wait`` falls back to the short timeout meanwhile, since notifications sent
while nobody listens are lost. On every (re)connect the waiter is woken once: work may
have arrived while nobody listened.

Used by the outbox relay (``relay.py``) and by background workers that must start soon
after a request queues work for them, without polling in a short loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

__all__ = ["Notifications", "notify"]

log = logging.getLogger(__name__)


async def notify(session: AsyncSession | AsyncConnection, channel: str) -> None:
    """``NOTIFY channel`` in the caller's transaction: the listeners hear it when it commits."""
    await session.execute(select(func.pg_notify(channel, "")))


class Notifications:
    def __init__(self, engine: AsyncEngine, channel: str, *, retry_interval: float = 1.0) -> None:
        self.engine = engine
        self.channel = channel
        self.retry_interval = retry_interval
        self._wake = asyncio.Event()
        self.listening = False

    def wake(self) -> None:
        """Wake the waiter from this process (e.g. the request that queued work, before a NOTIFY arrives)."""
        self._wake.set()

    async def wait(self, *, idle_timeout: float, fallback_timeout: float) -> bool:
        """Sleep until a notification, or ``idle_timeout`` (``fallback_timeout`` while not listening).

        True if woken by a notification (or ``wake``)."""
        timeout = idle_timeout if self.listening else fallback_timeout
        woken = False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=timeout)
            woken = True
        self._wake.clear()
        return woken

    async def listen(self) -> None:
        """Hold the LISTEN connection until cancelled; reconnect when it drops."""
        dsn = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(dsn)
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _c: lost.set())  # noqa: B023 - used only within this iteration, which awaits `lost`
                await connection.add_listener(self.channel, lambda *_args: self._wake.set())
                self.listening = True
                self._wake.set()  # work may have arrived while we were not listening
                await lost.wait()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("listener on %s reconnecting: %r", self.channel, exc)
            finally:
                self.listening = False
                if connection is not None and not connection.is_closed():
                    await connection.close()
            await asyncio.sleep(self.retry_interval)
