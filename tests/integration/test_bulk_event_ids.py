"""Event ids made in SQL by bulk writers are RFC 9562 UUIDv7: time-ordered, unique."""

from __future__ import annotations

import asyncio
import time
import uuid

from sqlalchemy import text

from relacja_messaging.outbox import BULK_EVENT_ID_SQL


async def test_bulk_event_ids_are_version_7_and_grow_with_time(scratch_engine) -> None:
    async with scratch_engine.connect() as conn:
        before_ms = int(time.time() * 1000)
        first = (await conn.execute(text(f"SELECT {BULK_EVENT_ID_SQL} FROM generate_series(1, 1000)"))).scalars().all()
        await asyncio.sleep(0.01)
        later = (await conn.execute(text(f"SELECT {BULK_EVENT_ID_SQL}"))).scalar_one()
        after_ms = int(time.time() * 1000)
    ids = [uuid.UUID(str(i)) for i in first]
    assert len(set(ids)) == 1000
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in [*ids, uuid.UUID(str(later))])
    millis = [i.int >> 80 for i in ids]
    assert all(before_ms - 5 <= ms <= after_ms + 5 for ms in millis)  # the clocks of PostgreSQL and Python agree here
    assert max(millis) < (uuid.UUID(str(later)).int >> 80)
