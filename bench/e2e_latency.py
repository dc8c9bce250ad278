"""End-to-end event latency: commit in the customers database → applied by segmentation.

    make bench-latency
    python -m bench.e2e_latency [--rate 200] [--duration 30] [--warmup 5] [--http]

Method. The full bench stack runs (``_stack.py``): the customers service with its outbox
relay, the segmentation service with its consumer (``segmentation.projection``), the
broker and PostgreSQL. This script writes ``CustomerRegisteredV1`` events at a steady
``--rate`` for ``--duration`` seconds, open loop: event *i* is started at
``start + i / rate`` by the wall clock, each in its own task, so a slow commit never
delays the ones after it.

- default: each event is one INSERT of the row ``Outbox.record`` builds (what
  ``Outbox.add`` writes) straight into the customers database, as its own transaction,
  through a plain asyncpg pool — the lightest writer, so the load generator takes as
  little of the 2 cores as possible; the statement trigger NOTIFYs the relay at commit as
  for the service's own writes. The clock starts at the server's ``clock_timestamp()``
  returned by that INSERT, i.e. just before its COMMIT: a ``time.time()`` taken after
  the commit returns includes however long this busy event loop takes to resume the
  task, and came out up to 50 ms late — after the consumer had applied the event;
- ``--http``: each event is a ``POST /api/v1/customers`` to the customers service (the
  customer row and its event in one transaction). The clock starts before the request
  is sent, so the figure includes HTTP and the service's work.

Latency per event = ``inbox_events.processed_at`` in the segmentation database (the
server's ``clock_timestamp()`` when the consumer applies it) − that start time, joined on
the event id; both clocks are this machine's. Each event is also split at
``outbox_events.published_at`` (the relay's UPDATE, after the broker acknowledged) into
relay and consumer stages; the consumer may apply an event before that UPDATE runs, so
the consumer stage can come out slightly negative. The CPU each part of the stack used
while measuring is printed too. A ``--warmup`` phase at the same rate runs
first and is not counted (the consumer group must have joined and every pool be warm).
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from relacja_contracts.events import CustomerRegisteredV1
from relacja_messaging import Outbox

from ._stack import bench_stack, cpu_seconds, load_average, percentile

TARGET_P99_MS = 250.0
CONSUMER = "segmentation.projection"
outbox = Outbox("/relacja/customers")
INSERT = (
    "INSERT INTO outbox_events (event_id, topic, key, event_type, headers, payload) "
    "VALUES ($1, $2, $3, $4, $5, $6) "
    "RETURNING extract(epoch FROM clock_timestamp())::float8"
)

# event number -> (join key, start time); a coroutine, as asyncio.create_task takes nothing else
Writer = Callable[[int], Coroutine[Any, Any, tuple[str, float]]]


async def paced(rate: float, duration: float, write: Writer) -> dict[str, float]:
    """Start ``write(i)`` at ``start + i / rate`` (open loop); returns join key -> start time."""
    loop = asyncio.get_running_loop()
    count = int(rate * duration)
    start = loop.time() + 0.05
    tasks: list[asyncio.Task[tuple[str, float]]] = []
    for i in range(count):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(write(i)))
    lag = loop.time() - (start + (count - 1) / rate)
    if lag > 0.1:
        print(f"  !! the writer fell {lag * 1000:.0f} ms behind schedule (CPU-bound client?)")
    return dict(await asyncio.gather(*tasks))


def payload(tag: str, i: int) -> CustomerRegisteredV1:
    return CustomerRegisteredV1(
        customer_id=uuid.uuid4(),
        kind="person",
        display_name=f"Latency {tag} {i}",
        email=f"latency-{tag}-{i}@example.com",
        lifecycle_stage="lead",
        registered_at=datetime.now(UTC),
    )


async def applied_times(seg: asyncpg.Connection, event_ids: list[str], timeout: float = 60.0) -> dict[str, float]:
    """event id -> processed_at (epoch s), waiting until every event is applied."""
    deadline = time.monotonic() + timeout
    while True:
        rows = await seg.fetch(
            "SELECT event_id, extract(epoch FROM processed_at)::float8 AS t FROM inbox_events "
            "WHERE consumer = $1 AND event_id = ANY($2::text[])",
            CONSUMER,
            event_ids,
        )
        if len(rows) == len(event_ids) or time.monotonic() > deadline:
            return {r["event_id"]: r["t"] for r in rows}
        await asyncio.sleep(0.2)


async def main(rate: float, duration: float, warmup: float, http: bool) -> None:
    async with bench_stack() as stack:
        pool = await asyncpg.create_pool(stack.config.postgres_dsn("relacja_customers"), min_size=10, max_size=40)
        customers_db = await asyncpg.connect(stack.config.postgres_dsn("relacja_customers"))
        seg = await asyncpg.connect(stack.config.postgres_dsn("relacja_segmentation"))
        client = httpx.AsyncClient(
            base_url=stack.service_url("customers"),
            trust_env=False,
            timeout=10.0,
            limits=httpx.Limits(max_connections=100),
        )
        try:

            async def via_outbox(tag: str, i: int) -> tuple[str, float]:
                row = outbox.record(payload(tag, i))
                # One statement = one transaction; RETURNING reads the clock just before COMMIT.
                committing = await pool.fetchval(INSERT, *row)
                return str(row.event_id), committing

            async def via_http(tag: str, i: int) -> tuple[str, float]:
                started = time.time()
                body = {
                    "kind": "person",
                    "display_name": f"Latency {tag} {i}",
                    "email": f"latency-{tag}-{i}@example.com",
                }
                response = await client.post("/api/v1/customers", json=body)
                response.raise_for_status()
                return response.json()["id"], started

            async def phase(tag: str, seconds: float) -> list[tuple[float, float, float]]:
                write = via_http if http else via_outbox
                started = await paced(rate, seconds, lambda i: write(tag, i))
                if http:  # customer id -> its registered event's id
                    rows = await customers_db.fetch(
                        "SELECT key, event_id::text FROM outbox_events WHERE key = ANY($1::text[]) AND event_type = $2",
                        list(started),
                        CustomerRegisteredV1.event_type,
                    )
                    started = {r["event_id"]: started[r["key"]] for r in rows}
                applied = await applied_times(seg, list(started))
                missing = len(started) - len(applied)
                if missing:
                    raise RuntimeError(f"{missing} of {len(started)} events not applied within 60 s")
                published = {
                    r["event_id"]: r["t"]
                    for r in await customers_db.fetch(
                        "SELECT event_id::text, extract(epoch FROM published_at)::float8 AS t FROM outbox_events "
                        "WHERE event_id = ANY($1::uuid[])",
                        list(started),
                    )
                }
                return [
                    ((applied[e] - t) * 1000, (published[e] - t) * 1000, (applied[e] - published[e]) * 1000)
                    for e, t in started.items()
                ]

            mode = "POST /api/v1/customers" if http else "outbox INSERTs"
            print(f"warm-up: {warmup:.0f} s at {rate:.0f} events/s ...", flush=True)
            await phase(f"warmup-{uuid.uuid4().hex[:6]}", warmup)
            print(f"measuring: {duration:.0f} s at {rate:.0f} events/s ({mode}); {load_average()} ...", flush=True)
            cpu_before, wall_before = cpu_seconds(stack.config.state_dir), time.monotonic()
            samples = await phase(uuid.uuid4().hex[:8], duration)
            cpu_after, wall = cpu_seconds(stack.config.state_dir), time.monotonic() - wall_before
            print(f"done; {load_average()}", flush=True)
        finally:
            await client.aclose()
            await seg.close()
            await customers_db.close()
            await pool.close()

    start = "request sent" if http else "commit"
    print(
        f"\nEnd-to-end latency, {start} -> applied by {CONSUMER}, {len(samples):,} events "
        f"at {rate:.0f}/s for {duration:.0f} s (target p99 <= {TARGET_P99_MS:.0f} ms):"
    )
    for column, name in enumerate(("end to end", f"{start} -> published (relay)", "published -> applied (consumer)")):
        values = [sample[column] for sample in samples]
        print(
            f"  {name:34s} "
            + "  ".join(f"p{p}={percentile(values, p):7.1f}" for p in (50, 95, 99))
            + f"  max={max(values):7.1f}  min={min(values):6.1f} ms"
        )
    print(f"  CPU used while measuring ({wall:.0f} s, until the last event was applied), % of one core:")
    print(
        "    "
        + ", ".join(f"{part} {100 * (cpu_after[part] - cpu_before.get(part, 0.0)) / wall:.0f}%" for part in cpu_after)
    )
    p99 = percentile([sample[0] for sample in samples], 99)
    print(f"  p99 {p99:.0f} ms: " + ("OK" if p99 <= TARGET_P99_MS else "ABOVE TARGET"))


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="events per second")
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds at the same rate, not counted")
    parser.add_argument(
        "--http", action="store_true", help="write through POST /api/v1/customers instead of the outbox"
    )
    args = parser.parse_args()
    asyncio.run(main(args.rate, args.duration, args.warmup, args.http))


if __name__ == "__main__":
    cli()
