"""The async engine and session factory of a service, and the session dependency.

The pool's use is exported at scrape time (``relacja_db_pool_in_use`` and
``relacja_db_pool_max``): a pool that stays near its maximum makes requests wait up to
``pool_timeout`` and then fail with 503, so operators alert on the ratio (docs/operations.md).

Dead connections (PostgreSQL restarted, or ended a backend) are handled on use, not by
``pool_pre_ping``, which cost a ``SELECT 1`` round trip on every checkout (8 % of the orders
process placing an order, issue 18). asyncpg notices a closed socket by itself (the event
loop sees the EOF), so ``_replace_closed`` asks it at checkout, for free: a closed
connection is discarded and the pool hands out a fresh one (SQLAlchemy retries a checkout
that raises ``DisconnectionError``). A connection that dies while a request uses it fails
that request with a 503 (nothing was committed), and SQLAlchemy then invalidates the whole
pool, so the next requests connect anew.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event, exc, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import QueuePool

__all__ = ["Database", "SessionDep", "get_session"]

# Every live Database of the process (normally one); weak, so tests' short-lived ones go away.
_LIVE: weakref.WeakSet[Database] = weakref.WeakSet()


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        if not url:
            raise ValueError("no database URL configured")
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_timeout=5,
        )
        event.listen(self.engine.sync_engine.pool, "checkout", _replace_closed)
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(self.engine, expire_on_commit=False)
        self.max_connections = 2 * pool_size  # pool_size + max_overflow
        _LIVE.add(self)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def _replace_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection whose socket PostgreSQL closed is replaced before use (no round trip)."""
    driver = getattr(dbapi_connection, "driver_connection", None)  # the asyncpg connection under the adapter
    if driver is not None and driver.is_closed():
        raise exc.DisconnectionError("pooled connection closed by the server")


def _checked_out(database: Database) -> int:
    pool = database.engine.sync_engine.pool
    # The engine's pool is a QueuePool (AsyncAdaptedQueuePool): it counts checked-out connections.
    return pool.checkedout() if isinstance(pool, QueuePool) else 0


class _PoolCollector(Collector):
    """Reads the pools when Prometheus scrapes, so the figures are never stale."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        databases = list(_LIVE)
        in_use = sum(_checked_out(database) for database in databases)
        yield GaugeMetricFamily(
            "relacja_db_pool_in_use", "Database connections checked out of the service's pool", value=in_use
        )
        yield GaugeMetricFamily(
            "relacja_db_pool_max",
            "Most database connections the service's pool opens (pool size plus overflow)",
            value=sum(database.max_connections for database in databases),
        )


REGISTRY.register(_PoolCollector())


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.database
    async with database.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
