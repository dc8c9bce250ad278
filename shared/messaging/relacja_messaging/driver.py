"""The asyncpg connection under a SQLAlchemy session, for COPY and other driver calls.

Bulk writers (the outbox's ``add_many``, the imports) COPY records straight through
asyncpg, inside the session's transaction: run one statement through the session first so
the transaction is open on that connection, then call the driver.

    connection = await asyncpg_connection(session)
    await connection.copy_records_to_table("outbox_events", records=rows, columns=columns)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

__all__ = ["asyncpg_connection"]


async def asyncpg_connection(bind: AsyncSession | AsyncConnection) -> Any:
    """The ``asyncpg.Connection`` the session (or connection) has checked out.

    Typed ``Any`` because asyncpg's ``Connection`` methods are what callers use, and
    SQLAlchemy types the driver connection as optional: it is None only for a connection
    already given back to the pool, which a session in use never holds.
    """
    connection = await bind.connection() if isinstance(bind, AsyncSession) else bind
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    if driver is None:
        raise RuntimeError("the session's connection has no driver connection (it was returned to the pool)")
    return driver
