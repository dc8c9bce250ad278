"""DDL for today's messaging tables, for scratch databases (tests, benchmarks).

    async with engine.begin() as conn:
        await conn.run_sync(create_messaging_tables)

A service's migrations never call this: a revision spells out the DDL as it was at that
revision (see any service's ``0001`` revision), because this follows ``tables.py`` as it
is today. The statement-level trigger sends one ``NOTIFY relacja_outbox`` per inserting
statement; PostgreSQL delivers it at commit (and drops it on rollback), which is exactly
when the relay may look.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from .tables import NOTIFY_CHANNEL, inbox_events, outbox_events, relay_watermarks

__all__ = ["create_messaging_tables"]

_TABLES = (outbox_events, inbox_events, relay_watermarks)


def create_messaging_tables(bind: Connection) -> None:
    for table in _TABLES:
        table.create(bind)
    bind.execute(
        text(
            f"""
            CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('{NOTIFY_CHANNEL}', '');
                RETURN NULL;
            END $$;
            """
        )
    )
    bind.execute(
        text(
            "CREATE TRIGGER outbox_events_notify AFTER INSERT ON outbox_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();"
        )
    )
