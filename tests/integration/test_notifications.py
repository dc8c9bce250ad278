"""Sleeping on LISTEN/NOTIFY with a slow poll as the net (relacja_messaging.notify) — real PostgreSQL."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy.ext.asyncio import AsyncEngine

from relacja_messaging.notify import Notifications, notify

from ..support import eventually


async def test_a_notify_committed_elsewhere_wakes_the_waiter_and_the_long_timeout_is_the_net(
    scratch_engine: AsyncEngine,
) -> None:
    notifications = Notifications(scratch_engine, "relacja_it_work")
    listener = asyncio.create_task(notifications.listen())
    try:

        async def listening() -> bool:
            return notifications.listening

        await eventually(listening, timeout=30)
        await notifications.wait(idle_timeout=0.01, fallback_timeout=0.01)  # the wake-up of connecting

        started = time.monotonic()
        assert not await notifications.wait(idle_timeout=0.3, fallback_timeout=60)  # listening: the long one is 0.3
        assert 0.25 < time.monotonic() - started < 10

        async def notify_later() -> None:
            await asyncio.sleep(0.3)
            async with scratch_engine.begin() as conn:
                await notify(conn, "relacja_it_work")
                await asyncio.sleep(0.5)  # delivered at commit, not before

        sender = asyncio.create_task(notify_later())
        started = time.monotonic()
        assert await notifications.wait(idle_timeout=60, fallback_timeout=60)
        assert 0.7 < time.monotonic() - started < 30
        await sender

        notifications.wake()  # from this process: no round trip
        assert await notifications.wait(idle_timeout=60, fallback_timeout=60)
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
    assert not notifications.listening
    started = time.monotonic()
    assert not await notifications.wait(idle_timeout=60, fallback_timeout=0.2)  # not listening: the short poll
    assert time.monotonic() - started < 10
