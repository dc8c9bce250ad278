"""The background housekeeping of a service: rows past their retention are deleted.

    Housekeeping(engine, {"idempotency keys": purge_keys, "inbox": purge_inbox}).run

Runs in the process that runs the outbox relay (one per service; ``create_service_app``),
every ``interval`` seconds. A failed round (an outage) is logged and tried again next
round; it never stops the service. The outbox's own retention is the relay's job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncEngine

from relacja_messaging.retention import purge_inbox

from .idempotency import purge_expired_keys

__all__ = ["Housekeeping", "service_housekeeping"]

log = logging.getLogger(__name__)

Purge = Callable[[AsyncEngine], Awaitable[int]]


class Housekeeping:
    def __init__(self, engine: AsyncEngine, purges: Mapping[str, Purge], *, interval: float = 600.0) -> None:
        self.engine, self.purges, self.interval = engine, dict(purges), interval

    async def run_once(self) -> dict[str, int]:
        """One round: how many rows each purge deleted (a failed one is left out)."""
        deleted: dict[str, int] = {}
        for name, purge in self.purges.items():
            try:
                deleted[name] = await purge(self.engine)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # an outage: try again next round, never crash the service
                log.warning("housekeeping: purging %s failed: %r", name, exc)
                continue
            if deleted[name]:
                log.info("housekeeping: %d %s past their retention deleted", deleted[name], name)
        return deleted

    async def run(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(self.interval)


def service_housekeeping(
    engine: AsyncEngine, *, idempotency_key_retention: timedelta, inbox_retention: timedelta
) -> Housekeeping:
    """What every service purges: stored Idempotency-Key responses and old inbox rows."""
    return Housekeeping(
        engine,
        {
            "idempotency keys": partial(purge_expired_keys, retention=idempotency_key_retention),
            "inbox rows": partial(purge_inbox, retention=inbox_retention),
        },
    )
