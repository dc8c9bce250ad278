"""The body of every service's Alembic ``env.py``: run migrations on the async engine.

    # services/<name>/migrations/env.py
    from relacja_servicekit.migrations import run_migrations
    from relacja_customers.settings import CustomersSettings
    from relacja_customers.tables import metadata
    run_migrations(metadata, CustomersSettings().database_url)

Migrations are a separate one-off step before a service starts (``make run`` runs them;
in Kubernetes a Job does).
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

__all__ = ["run_migrations"]


def _run(connection: Connection, metadata: MetaData) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(metadata: MetaData, url: str) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run, metadata)
    await engine.dispose()


def run_migrations(metadata: MetaData, url: str) -> None:
    if not url:
        raise SystemExit("no database URL: set the service's RELACJA_<SERVICE>_DATABASE_URL")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_async(metadata, url))
