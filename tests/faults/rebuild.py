"""A projection rebuilt by replay into an empty database, compared with the live one.

Segmentation's projection (``customer_profiles``, ``seg_orders``) is built only from
events of other services, so it is the one every scenario's load feeds (orders, customer
changes, tickets). The rebuild: an empty database on the stack's PostgreSQL, migrated with
segmentation's own Alembic migrations; segmentation's own handlers in an
:class:`~relacja_messaging.consumer.EventConsumer` of a new consumer group reading every
topic from the start (the relays replayed whatever a broker restart lost); once its inbox
holds every event the live consumer applied, both projections are reduced to an MD5 of
their event-fed columns, row by row in key order. Columns a clock or the scheduled
recomputation fills (``updated_at``, scores) are left out: a replay cannot reproduce them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
import uuid

import asyncpg
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from relacja_devstack import Stack
from relacja_messaging.consumer import EventConsumer

__all__ = ["CHECKSUMS", "projection_checksums", "rebuild_matches"]

LIVE_CONSUMER = "segmentation.projection"

# One MD5 per table over its event-fed columns, in key order.
CHECKSUMS = {
    "customer_profiles": (
        "customer_id",
        "concat_ws('|', customer_id, kind, lifecycle_stage, master_version, tags, consents, erased, orders_count,"
        " purchases, gross_revenue, net_revenue, margin, first_purchase_at, last_purchase_at, complaints, tickets)",
    ),
    "seg_orders": (
        "order_id",
        "concat_ws('|', order_id, customer_id, status, placed_at, currency, gross_amount, net_amount, margin)",
    ),
}


async def projection_checksums(connection: asyncpg.Connection) -> dict[str, tuple[int, str]]:
    sums = {}
    for table, (key, row) in CHECKSUMS.items():
        record = await connection.fetchrow(
            f"SELECT count(*) AS n, md5(coalesce(string_agg({row}, E'\\n' ORDER BY {key}), '')) AS sum FROM {table}"
        )
        assert record is not None  # an aggregate always returns one row
        sums[table] = (record["n"], record["sum"])
    return sums


async def _migrate(url: str) -> None:
    env = dict(os.environ, RELACJA_SEGMENTATION_DATABASE_URL=url)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "alembic",
        "-c",
        "services/segmentation/alembic.ini",
        "upgrade",
        "heads",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise AssertionError(f"rebuild migrations failed: {out.decode(errors='replace')[-2000:]}")


async def rebuild_matches(stack: Stack, timeout: float = 240.0) -> tuple[bool, str]:
    """(equal?, a note with both checksums) — the live projection vs its rebuild."""
    from relacja_segmentation.consumers import handlers

    suffix = uuid.uuid4().hex[:8]
    database = f"relacja_segmentation_rebuild_{suffix}"
    admin = await asyncpg.connect(stack.postgres_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    url = stack.database_url("segmentation").rsplit("/", 1)[0] + f"/{database}"
    await _migrate(url)
    engine = create_async_engine(url)
    consumer = EventConsumer(
        f"rebuild-{suffix}", handlers, async_sessionmaker(engine, expire_on_commit=False), stack.bootstrap_servers
    )
    task = asyncio.ensure_future(consumer.run())
    live = await asyncpg.connect(stack.database_url("segmentation").replace("+asyncpg", ""))
    rebuilt = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        wanted = {
            r[0] for r in await live.fetch("SELECT event_id FROM inbox_events WHERE consumer = $1", LIVE_CONSUMER)
        }
        deadline = time.monotonic() + timeout
        while True:
            have = {r[0] for r in await rebuilt.fetch("SELECT event_id FROM inbox_events")}
            if wanted <= have or time.monotonic() > deadline:
                break
            await asyncio.sleep(1.0)
        missing = len(wanted - have)
        whereabouts = await _whereabouts(stack, live, sorted(wanted - have)[:5])
        live_sums, rebuilt_sums = await projection_checksums(live), await projection_checksums(rebuilt)
        if live_sums != rebuilt_sums:  # the live consumer may have applied a late event meanwhile: once more
            await asyncio.sleep(5.0)
            live_sums, rebuilt_sums = await projection_checksums(live), await projection_checksums(rebuilt)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await live.close()
        await rebuilt.close()
        await engine.dispose()
        admin = await asyncpg.connect(stack.postgres_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()
    equal = missing == 0 and live_sums == rebuilt_sums
    note = f"rebuild: {missing} events not replayed; live {live_sums} rebuilt {rebuilt_sums}"
    return equal, note + "".join(f"\n    - {line}" for line in whereabouts)


async def _whereabouts(stack: Stack, live: asyncpg.Connection, event_ids: list[str]) -> list[str]:
    """For events the rebuild never saw: where the live consumer took each from, and its outbox row."""
    lines = []
    for event_id in event_ids:
        taken = await live.fetchrow(
            'SELECT event_type, topic, partition, "offset", outcome, processed_at FROM inbox_events'
            " WHERE consumer = $1 AND event_id = $2",
            LIVE_CONSUMER,
            event_id,
        )
        found = "in no outbox"
        for spec in stack.config.services:
            if not spec.database:
                continue
            db = await asyncpg.connect(stack.database_url(spec.name).replace("+asyncpg", ""))
            try:
                row = await db.fetchrow(
                    "SELECT topic, key, created_at, published_at FROM outbox_events WHERE event_id::text = $1", event_id
                )
            finally:
                await db.close()
            if row is not None:
                found = f"{spec.name}'s outbox: {dict(row)}"
                break
        lines.append(f"{event_id}: taken {dict(taken) if taken else None}; {found}")
    return lines
