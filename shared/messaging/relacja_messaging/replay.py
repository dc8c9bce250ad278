"""Operator command: publish a service's retained outbox again.

    python -m relacja_messaging.replay --database-url postgresql+asyncpg://.../relacja_customers \
        [--since 2026-11-01T00:00:00Z]

Marks the retained rows (all, or those created since ``--since``) unpublished; the
service's running relay then publishes them in their original order. Consumers skip
what they have already applied, so a replay is safe at any time — use it to refill a
topic on a new cluster or to feed a consumer whose inbox was reset. Without ``--since``
the topics are declared first and the relay's offset watermarks are reset, as after a
broker that lost its log.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime

from sqlalchemy.ext.asyncio import create_async_engine

from .relay import OutboxRelay

__all__ = ["main"]


async def _replay(database_url: str, bootstrap: str, since: datetime | None) -> int:
    engine = create_async_engine(database_url)
    try:
        return await OutboxRelay(engine, bootstrap).replay(since)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m relacja_messaging.replay", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="the service database (postgresql+asyncpg://...)")
    parser.add_argument("--bootstrap", default="127.0.0.1:9092", help="Kafka bootstrap servers")
    parser.add_argument("--since", type=datetime.fromisoformat, help="only rows created at or after this RFC 3339 time")
    args = parser.parse_args(argv)
    count = asyncio.run(_replay(args.database_url, args.bootstrap, args.since))
    print(f"{count} retained events queued for publishing; the service's relay publishes them.")


if __name__ == "__main__":
    main()
