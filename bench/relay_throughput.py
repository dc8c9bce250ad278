"""Relay throughput: how fast one ``OutboxRelay`` drains a backlog to the broker (events/s).

    make bench-relay
    python -m bench.relay_throughput [--events 50000] [--batch-sizes 500,1000,2000] [--runs 3] [--profile]

Method. Only PostgreSQL and the broker are started (bench stack, see ``_stack.py``); a
scratch database ``bench_relay`` gets the messaging tables exactly as a service's first
migration creates them (trigger included). ``--events`` ``CustomerRegisteredV1`` outbox
rows are built once with ``Outbox.record`` (the rows the services write).

Each run, per batch size:

1. empty the outbox and the watermarks, start one relay (``OutboxRelay.run``) and let it
   publish one warm-up row, so its Kafka clients are connected and the first broker
   check is done before the clock starts;
2. COPY all rows in one transaction (insertion is not measured); the statement trigger
   NOTIFYs the relay at commit, as in production. The clock starts right after commit;
3. wait until no row is left unpublished; throughput = rows / (max(published_at) - commit).

``published_at`` is the server's ``clock_timestamp()`` and the commit time is the
client's ``time.time()``: the same machine clock. The median of ``--runs`` runs is
reported per batch size. ``--profile`` runs the first batch size once more under
cProfile (relay and this script share the process) and prints the top functions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import pstats
import time
import uuid
from datetime import UTC, datetime

import asyncpg
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from relacja_contracts.events import CustomerRegisteredV1
from relacja_messaging import Outbox, OutboxRecord, OutboxRelay
from relacja_messaging.migrations import create_messaging_tables
from relacja_messaging.relay import RelaySettings

from ._stack import bench_stack, load_average, median

DATABASE = "bench_relay"
TARGET = 5_000.0  # events/s
COLUMNS = list(OutboxRecord._fields)


def make_rows(count: int) -> list[tuple]:
    """``count`` outbox rows as COPY records, built the way the customers service builds them."""
    now = datetime.now(UTC)
    outbox = Outbox("/relacja/customers")
    records = []
    for i in range(count):
        payload = CustomerRegisteredV1(
            customer_id=uuid.uuid4(),
            kind="person",
            display_name=f"Bench Customer {i}",
            email=f"bench{i}@example.com",
            lifecycle_stage="lead",
            registered_at=now,
        )
        records.append(tuple(outbox.record(payload)))
    return records


async def wait_all_published(conn: asyncpg.Connection, timeout: float, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while await conn.fetchval("SELECT EXISTS (SELECT 1 FROM outbox_events WHERE published_at IS NULL)"):
        if time.monotonic() > deadline:
            left = await conn.fetchval("SELECT count(*) FROM outbox_events WHERE published_at IS NULL")
            raise TimeoutError(f"{left} rows still unpublished after {timeout:.0f} s")
        await asyncio.sleep(interval)


def replays() -> float:
    """How often relays of this process replayed the outbox (they think the broker lost data)."""
    return REGISTRY.get_sample_value("relacja_outbox_replays_total") or 0.0


async def one_run(
    engine: AsyncEngine, conn: asyncpg.Connection, bootstrap: str, rows: list[tuple], batch_size: int
) -> float:
    """Drain ``rows`` with a fresh relay; returns events/s."""
    replays_before = replays()
    await conn.execute("TRUNCATE outbox_events, relay_watermarks RESTART IDENTITY")
    relay = OutboxRelay(engine, bootstrap, RelaySettings(batch_size=batch_size), name="bench-relay")
    task = asyncio.create_task(relay.run())
    try:
        await conn.copy_records_to_table("outbox_events", records=rows[:1], columns=COLUMNS)  # warm-up row
        await wait_all_published(conn, timeout=60)
        async with conn.transaction():
            await conn.copy_records_to_table("outbox_events", records=rows[1:], columns=COLUMNS)
        committed = time.time()
        await wait_all_published(conn, timeout=max(120.0, len(rows) / 500))
        last = await conn.fetchval("SELECT extract(epoch FROM max(published_at)) FROM outbox_events WHERE id > 1")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if replays() > replays_before:
            print(
                f"  !! the relay replayed the outbox {replays() - replays_before:.0f} time(s) during this run",
                flush=True,
            )
    return (len(rows) - 1) / (float(last) - committed)


async def main(events: int, batch_sizes: list[int], runs: int, profile: bool) -> None:
    print(f"building {events:,} outbox rows ...", flush=True)
    rows = make_rows(events + 1)  # +1: the warm-up row
    async with bench_stack(services=()) as stack:
        admin = await asyncpg.connect(stack.postgres_dsn)
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
        await admin.close()
        engine = create_async_engine(
            stack.config.postgres_dsn(DATABASE).replace("postgresql://", "postgresql+asyncpg://")
        )
        conn = await asyncpg.connect(stack.config.postgres_dsn(DATABASE))
        try:
            async with engine.begin() as ddl:
                await ddl.run_sync(create_messaging_tables)
            results: dict[int, list[float]] = {}
            for batch_size in batch_sizes:
                for run in range(1, runs + 1):
                    rate = await one_run(engine, conn, stack.bootstrap_servers, rows, batch_size)
                    results.setdefault(batch_size, []).append(rate)
                    print(
                        f"batch_size={batch_size:5d} run {run}: {rate:8,.0f} events/s  ({load_average()})", flush=True
                    )
            if profile:
                profiler = cProfile.Profile()
                profiler.enable()
                rate = await one_run(engine, conn, stack.bootstrap_servers, rows, batch_sizes[0])
                profiler.disable()
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
                print(f"\n--- cProfile, batch_size={batch_sizes[0]} ({rate:,.0f} events/s under the profiler) ---")
                print(out.getvalue())
        finally:
            await conn.close()
            await engine.dispose()

    print(
        f"\nRelay throughput, {events:,} CustomerRegisteredV1 events, one relay, median of {runs} runs "
        f"(target >= {TARGET:,.0f} events/s):"
    )
    for batch_size, rates in results.items():
        verdict = "OK" if median(rates) >= TARGET else "BELOW TARGET"
        print(
            f"  batch_size={batch_size:5d}: median {median(rates):8,.0f} events/s "
            f"(min {min(rates):,.0f}, max {max(rates):,.0f})  {verdict}"
        )


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch-sizes", default="500,1000,2000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="one more run under cProfile, print the top functions")
    args = parser.parse_args()
    asyncio.run(main(args.events, [int(b) for b in args.batch_sizes.split(",")], args.runs, args.profile))


if __name__ == "__main__":
    cli()
