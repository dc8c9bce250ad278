"""Today's webhook tables in a scratch database (tests, benchmarks).

    async with engine.begin() as conn:
        await conn.run_sync(lambda bind: create_webhook_tables(bind, tables))

A service's migrations never call this: a revision spells out the DDL as it was at that
revision, because this follows ``tables.py`` as it is today.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from .tables import WebhookTables

__all__ = ["create_webhook_tables"]


def create_webhook_tables(bind: Connection, tables: WebhookTables) -> None:
    for table in (tables.endpoints, tables.messages, tables.attempts):
        table.create(bind)
