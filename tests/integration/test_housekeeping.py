"""Housekeeping: idempotency keys and inbox rows past their retention are purged, in
batches, younger ones kept; every service database has the indexes the purges use."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from relacja_devstack import SERVICES, Stack
from relacja_messaging.tables import inbox_events
from relacja_servicekit.housekeeping import service_housekeeping
from relacja_servicekit.idempotency import create_idempotency_table, idempotency_keys, purge_expired_keys

from ..support import service_db


async def test_keys_older_than_the_retention_are_deleted_and_younger_ones_kept(scratch_engine) -> None:
    async with scratch_engine.begin() as conn:
        await conn.run_sync(create_idempotency_table)
        rows = [
            {
                "scope": "orders.create",
                "key": f"old-{i}",
                "fingerprint": "f",
                "created_at": func.now() - timedelta(hours=25),
            }
            for i in range(23)
        ]
        rows += [
            {
                "scope": "orders.create",
                "key": f"new-{i}",
                "fingerprint": "f",
                "created_at": func.now() - timedelta(hours=23),
            }
            for i in range(3)
        ]
        for row in rows:
            await conn.execute(insert(idempotency_keys).values(**row))

    # A batch smaller than the backlog: the purge must keep going until nothing is left.
    deleted = await purge_expired_keys(scratch_engine, timedelta(hours=24), batch=5)

    assert deleted == 23
    async with scratch_engine.connect() as conn:
        kept = (await conn.execute(select(idempotency_keys.c.key).order_by(idempotency_keys.c.key))).scalars().all()
    assert kept == ["new-0", "new-1", "new-2"]
    assert await purge_expired_keys(scratch_engine, timedelta(hours=24)) == 0


async def test_a_round_of_housekeeping_purges_old_inbox_rows_and_keys(scratch_engine) -> None:
    async with scratch_engine.begin() as conn:
        await conn.run_sync(create_idempotency_table)
        for n, age in enumerate([timedelta(days=31), timedelta(days=31), timedelta(days=29)]):
            await conn.execute(
                insert(inbox_events).values(
                    consumer="test.consumer",
                    event_id=f"e-{n}",
                    event_type="t",
                    topic="t",
                    partition=0,
                    offset=n,
                    processed_at=func.now() - age,
                )
            )
        await conn.execute(
            insert(idempotency_keys).values(
                scope="s", key="old", fingerprint="f", created_at=func.now() - timedelta(days=2)
            )
        )

    housekeeping = service_housekeeping(
        scratch_engine, idempotency_key_retention=timedelta(hours=24), inbox_retention=timedelta(days=30)
    )
    assert await housekeeping.run_once() == {"idempotency keys": 1, "inbox rows": 2}
    async with scratch_engine.connect() as conn:
        assert (await conn.execute(select(inbox_events.c.event_id))).scalars().all() == ["e-2"]


@pytest.mark.parametrize("service", [s.name for s in SERVICES if s.database])
async def test_every_service_database_has_the_purge_indexes(stack: Stack, service: str) -> None:
    async with service_db(stack, service) as db:
        indexes = await db.fetch(
            "SELECT indexname FROM pg_indexes WHERE tablename IN ('idempotency_keys', 'inbox_events')"
        )
    assert {"ix_idempotency_keys_created_at", "ix_inbox_events_processed_at"} <= {row["indexname"] for row in indexes}
