"""Deleting rows past their retention, in small batches; and the inbox's retention.

Batches keep each DELETE's transaction (and its locks and WAL burst) short, so a backlog
of millions of rows after a long outage drains without stalling the service's writes.

The inbox (one row per applied event id) is what makes a redelivered event a no-op. An
event can only come again while the broker still holds it or a relay replays its
retained outbox (7 days), so inbox rows are kept far longer than both (30 days by
default) and deleted after that.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["delete_older_than", "purge_inbox"]


async def delete_older_than(engine: AsyncEngine, table: str, column: str, age: timedelta, *, batch: int = 5_000) -> int:
    """Delete the rows of ``table`` whose ``column`` is older than ``age``; returns how many.
    ``table`` and ``column`` are identifiers from code, never from a request."""
    statement = text(
        f"DELETE FROM {table} WHERE ctid = ANY(ARRAY("
        f"SELECT ctid FROM {table} WHERE {column} < now() - make_interval(secs => :seconds) LIMIT :batch))"
    )
    deleted = 0
    while True:
        async with engine.begin() as conn:
            result = await conn.execute(statement, {"seconds": age.total_seconds(), "batch": batch})
        deleted += result.rowcount
        if result.rowcount < batch:
            return deleted


async def purge_inbox(engine: AsyncEngine, retention: timedelta, *, batch: int = 5_000) -> int:
    """Delete inbox rows of events applied longer than ``retention`` ago."""
    return await delete_older_than(engine, "inbox_events", "processed_at", retention, batch=batch)
