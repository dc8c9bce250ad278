"""Pooled connections that PostgreSQL closed are replaced on use, without ``pool_pre_ping``.

``relacja_servicekit.db.Database`` no longer pings on every checkout (a round trip per
request, issue 18); a connection whose backend is gone must still never reach a request.
The backends are ended by PostgreSQL itself (``pg_terminate_backend``, what a restart does
to every connection), not by a mock.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from relacja_messaging.errors import is_transient
from relacja_servicekit.db import Database


async def _pooled_backends(database: Database, count: int) -> set[int]:
    """Check ``count`` connections out at once (so the pool holds that many), return their backend pids."""
    gate = asyncio.Event()

    async def one() -> int:
        async with database.sessions() as session:
            pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            await gate.wait()
            return int(pid)

    tasks = [asyncio.create_task(one()) for _ in range(count)]
    await asyncio.sleep(0.5)
    gate.set()
    return set(await asyncio.gather(*tasks))


async def test_connections_ended_by_the_server_are_replaced_at_checkout(scratch_engine: AsyncEngine) -> None:
    url = scratch_engine.url.render_as_string(hide_password=False)
    database = Database(url, pool_size=3)
    try:
        backends = await _pooled_backends(database, 3)
        assert len(backends) == 3
        admin = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            ended = await admin.fetchval(
                "SELECT count(*) FROM unnest($1::int[]) AS p WHERE pg_terminate_backend(p)", list(backends)
            )
        finally:
            await admin.close()
        assert ended == 3
        await asyncio.sleep(0.5)  # the event loop reads the closed sockets' EOF (a restart takes longer still)

        # Every one of the pool's connections is dead; each request still gets a live one.
        for _ in range(3):
            async with database.sessions() as session, session.begin():
                pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            assert pid not in backends
        pool = database.engine.sync_engine.pool
        assert isinstance(pool, QueuePool) and pool.checkedout() == 0
    finally:
        await database.dispose()


async def test_a_driver_call_whose_connection_the_server_ends_is_a_transient_failure(
    scratch_engine: AsyncEngine,
) -> None:
    """The orders' placement runs its statements on asyncpg directly: the error it gets when
    PostgreSQL ends the connection under a running statement (a restart does that) must read
    as "database unavailable" (503), not a bug (500)."""
    url = scratch_engine.url.render_as_string(hide_password=False).replace("postgresql+asyncpg", "postgresql")
    victim, admin = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        running = asyncio.create_task(victim.fetchval("SELECT pg_sleep(30)"))
        pid = victim.get_server_pid()
        for _ in range(100):  # until the statement is running in its backend
            if await admin.fetchval("SELECT state = 'active' FROM pg_stat_activity WHERE pid = $1", pid):
                break
            await asyncio.sleep(0.1)
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
        with pytest.raises(Exception) as raised:
            await running
        assert is_transient(raised.value), repr(raised.value)
    finally:
        await victim.close()
        await admin.close()
