"""Orders: placement through the gateway, historical import, and publishing the import's events.

    python -m bench.orders [--customers 10000] [--paced-rate 200] [--paced-seconds 30]
                           [--sustained-seconds 30] [--concurrency 32] [--import-rows 1000000]
    python -m bench.orders --import-only [--import-rows 1000000]   # the import alone, then its events published

Targets (issue 4): placement through the gateway with the whole local stack ≥ 500 orders/s
sustained and p99 ≤ 100 ms at 200 orders/s; import ≥ 20,000 orders/s into the database;
the events of 1,000,000 imported orders published within 2 minutes.

Method. The whole bench stack (``bench/_stack.py``: PostgreSQL, broker, every service and
the gateway on the bench ports, fresh state, stopped at the end).

The gateway's per-caller rate limit is set out of reach and the gateway's and orders'
access logs are off (WARNING), as in ``bench/gateway_overhead.py``.

0. Seed (not measured): ``--customers`` rows COPYed into the orders service's customers
   projection (``known_customers``, as its consumer would write them, with external ids
   ``bench-<n>``) and 20 products created through the gateway.
1. Paced placement: ``POST /api/v1/orders`` (2 lines, random customer and products)
   through the gateway at ``--paced-rate`` per second for ``--paced-seconds``, open loop
   (each request starts at its scheduled time whatever the earlier ones do; latency is
   measured from the scheduled time, so a stall counts in full). Client: httpx in this
   process.
2. Sustained placement: ``wrk`` (closed loop, ``--concurrency`` connections, one thread)
   posting the same kind of order for ``--sustained-seconds``; orders/s and wrk's p99.
3. Import: ``--import-rows`` NDJSON rows (new external ids, 2 lines each, customers by
   external id) streamed in 64 KiB chunks to ``POST /api/v1/orders/imports`` on the service
   (not through the gateway); orders/s = rows / wall time of the request, which ends when
   the last batch — orders and their outbox rows — is committed. The relay publishes while
   the import runs; the time until the outbox is empty is reported from the start and from
   the end of the import.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import create_async_engine

from relacja_messaging import OutboxRelay
from relacja_messaging.relay import RelaySettings

from ._stack import bench_stack, cpu_seconds, load_average, percentile

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local customers = {%(customers)s}
local skus = {%(skus)s}
request = function()
  local body = string.format('{"customer_id":"%%s","channel":"web","currency":"PLN","lines":[{"sku":"%%s","quantity":2},{"sku":"%%s","quantity":1,"discount_percent":"10"}]}',
    customers[math.random(#customers)], skus[math.random(#skus)], skus[math.random(#skus)])
  return wrk.format(nil, nil, nil, body)
end
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('{"requests": %%d, "seconds": %%f, "p50": %%f, "p99": %%f, "errors": %%d, "non2xx": %%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99), errors, summary.errors.status))
end
"""


async def seed_customers(dsn: str, count: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table(
            "known_customers",
            columns=["customer_id", "external_id", "state"],
            records=[(cid, f"bench-{n}", "active") for n, cid in enumerate(ids)],
        )
    finally:
        await conn.close()
    return ids


def order_body(rng: random.Random, customers: list[uuid.UUID], skus: list[str]) -> dict:
    return {
        "customer_id": str(rng.choice(customers)),
        "channel": "web",
        "currency": "PLN",
        "lines": [
            {"sku": rng.choice(skus), "quantity": 2},
            {"sku": rng.choice(skus), "quantity": 1, "discount_percent": "10"},
        ],
    }


async def paced(
    client: httpx.AsyncClient, rate: float, seconds: float, customers: list[uuid.UUID], skus: list[str]
) -> dict:
    """Start request *i* at ``start + i / rate`` (open loop), each in its own task created
    at its time (thousands of waiting tasks would make the client itself the bottleneck)."""
    rng = random.Random(1)
    latencies: list[float] = []
    errors = 0

    async def one(at: float) -> None:
        nonlocal errors
        try:
            response = await client.post("/api/v1/orders", json=order_body(rng, customers, skus))
            errors += response.status_code != 201
        except httpx.TransportError:  # e.g. a keep-alive connection the server closed: counted, not fatal
            errors += 1
        latencies.append((time.perf_counter() - at) * 1000)

    tasks = []
    start = time.perf_counter() + 0.2
    for i in range(int(rate * seconds)):
        at = start + i / rate
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        tasks.append(asyncio.create_task(one(at)))
    await asyncio.gather(*tasks)
    return {
        "requests": len(latencies),
        "errors": errors,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "max": max(latencies),
    }


def sustained(
    url: str, token: str, customers: list[uuid.UUID], skus: list[str], concurrency: int, seconds: float
) -> dict:
    script = WRK_SCRIPT % {
        "customers": ",".join(f'"{c}"' for c in customers[:2000]),
        "skus": ",".join(f'"{s}"' for s in skus),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    command = [
        "wrk",
        "-t1",
        f"-c{concurrency}",
        f"-d{seconds:g}s",
        "--timeout",
        "5s",
        "-s",
        handle.name,
        "-H",
        f"Authorization: Bearer {token}",
        url + "/api/v1/orders",
    ]
    try:
        output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    finally:
        os.unlink(handle.name)
    report = json.loads(output.strip().splitlines()[-1])
    return {
        "rps": report["requests"] / report["seconds"],
        "p50": report["p50"] / 1000,
        "p99": report["p99"] / 1000,
        "errors": report["errors"],
        "non2xx": report["non2xx"],
        "requests": report["requests"],
    }


async def import_body(rows: int, customers: int, skus: list[str], run: str) -> AsyncIterator[bytes]:
    rng = random.Random(5)
    base = datetime(2015, 1, 1, tzinfo=UTC)
    buffer: list[str] = []
    size = 0
    for n in range(rows):
        quantity = rng.randint(1, 3)
        line = (
            json.dumps(
                {
                    "external_id": f"{run}-{n}",
                    "customer_external_id": f"bench-{rng.randrange(customers)}",
                    "placed_at": (base + timedelta(minutes=n)).isoformat(),
                    "total_amount": f"{quantity * 10 + 5 + 3:.2f}",
                    "currency": "PLN",
                    "channel": "store",
                    "lines": [
                        {"sku": rng.choice(skus), "quantity": quantity, "unit_price": "10.00", "unit_cost": "6.00"},
                        {"sku": rng.choice(skus), "quantity": 1, "unit_price": "5.00"},
                    ],
                }
            )
            + "\n"
        )
        buffer.append(line)
        size += len(line)
        if size >= 65536:
            yield "".join(buffer).encode()
            buffer, size = [], 0
            await asyncio.sleep(0)
    if buffer:
        yield "".join(buffer).encode()


async def outbox_empty(dsn: str, timeout: float = 1800) -> float:
    """Seconds until no outbox row is unpublished (polling every 0.5 s)."""
    conn = await asyncpg.connect(dsn)
    deadline = time.perf_counter() + timeout
    try:
        while await conn.fetchval("SELECT EXISTS (SELECT 1 FROM outbox_events WHERE published_at IS NULL)"):
            if time.perf_counter() > deadline:
                raise TimeoutError(f"the outbox was not drained within {timeout} s")
            await asyncio.sleep(0.5)
        return time.perf_counter()
    finally:
        await conn.close()


async def import_only(args: argparse.Namespace) -> None:
    """The import on its own, laid out as ``deploy/k8s`` runs a service: the orders API
    process without its relay (``RUN_RELAY=false``, the ``api`` deployment) takes the
    import; no other service runs, so nothing else consumes the events meanwhile, and the
    body is built before the clock starts. Then the shared ``OutboxRelay`` — what the
    ``worker`` deployment runs — is started in this (separate) process and publishes the
    import's events; events/s = rows / time until the outbox is empty."""
    os.environ["RELACJA_ORDERS_LOG_LEVEL"] = "WARNING"
    os.environ["RELACJA_ORDERS_RUN_RELAY"] = "false"
    async with bench_stack(services=["orders"]) as stack:
        dsn = stack.config.postgres_dsn("relacja_orders")
        await seed_customers(dsn, args.customers)
        async with httpx.AsyncClient(base_url=stack.service_url("orders"), timeout=3600, trust_env=False) as service:
            skus = []
            for n in range(20):
                sku = f"BENCH-{n:03d}"
                created = await service.post(
                    "/api/v1/products",
                    json={
                        "sku": sku,
                        "name": f"Product {n}",
                        "category": f"cat-{n % 4}",
                        "list_price": f"{10 + n}.99",
                        "unit_cost": f"{5 + n}.50",
                        "tax_rate": "0.23",
                        "currency": "PLN",
                    },
                )
                created.raise_for_status()
                skus.append(sku)
            chunks = [
                chunk async for chunk in import_body(args.import_rows, args.customers, skus, uuid.uuid4().hex[:6])
            ]

            async def body() -> AsyncIterator[bytes]:
                for chunk in chunks:
                    yield chunk

            before = cpu_seconds(stack.config.state_dir)
            started = time.perf_counter()
            response = await service.post(
                "/api/v1/orders/imports", content=body(), headers={"Content-Type": "application/x-ndjson"}
            )
            ended = time.perf_counter()
            response.raise_for_status()
            job = response.json()
            used = {
                part: seconds - before.get(part, 0.0) for part, seconds in cpu_seconds(stack.config.state_dir).items()
            }
        print(
            f"import only (orders API process alone, relay off), {args.import_rows} orders (NDJSON, 2 lines each, body built "
            f"beforehand): {ended - started:.1f} s = {args.import_rows / (ended - started):.0f} orders/s "
            f"(created {job['rows_created']}, failed {job['rows_failed']}) ({load_average()})",
            flush=True,
        )
        print(
            "  CPU seconds during the import: "
            + ", ".join(f"{part} {seconds:.1f}" for part, seconds in sorted(used.items())),
            flush=True,
        )

        engine = create_async_engine(stack.database_url("orders"))
        relay = asyncio.create_task(
            OutboxRelay(engine, stack.bootstrap_servers, RelaySettings(), name="bench-worker-relay").run()
        )
        try:
            relay_started = time.perf_counter()
            drained = await outbox_empty(dsn)
        finally:
            relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay
            await engine.dispose()
    seconds = drained - relay_started
    print(
        f"  then one relay (worker role) published the {job['rows_created']} events in {seconds:.1f} s = "
        f"{job['rows_created'] / seconds:.0f} events/s ({load_average()})"
    )


async def main(args: argparse.Namespace) -> None:
    results: list[str] = []

    def report(line: str) -> None:
        results.append(line)
        print(line, flush=True)

    # The stack's processes inherit this environment. The gateway's per-caller rate limit
    # (50/s) is set out of reach, so its cost is measured, not its refusals; access logs off.
    os.environ["RELACJA_GATEWAY_RATE_LIMIT_RATE"] = "1000000"
    os.environ["RELACJA_GATEWAY_RATE_LIMIT_BURST"] = "1000000"
    os.environ["RELACJA_GATEWAY_LOG_LEVEL"] = "WARNING"
    os.environ["RELACJA_ORDERS_LOG_LEVEL"] = "WARNING"
    async with bench_stack() as stack:
        dsn = stack.config.postgres_dsn("relacja_orders")
        customers = await seed_customers(dsn, args.customers)
        token = stack.token(["orders:read", "orders:write"])
        async with httpx.AsyncClient(
            base_url=stack.gateway_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
            limits=httpx.Limits(max_connections=100),
            trust_env=False,
        ) as gateway:
            skus = []
            for n in range(20):
                sku = f"BENCH-{n:03d}"
                created = await gateway.post(
                    "/api/v1/products",
                    json={
                        "sku": sku,
                        "name": f"Product {n}",
                        "category": f"cat-{n % 4}",
                        "list_price": f"{10 + n}.99",
                        "unit_cost": f"{5 + n}.50",
                        "tax_rate": "0.23",
                        "currency": "PLN",
                    },
                )
                created.raise_for_status()
                skus.append(sku)
            await paced(gateway, 50, 4, customers, skus)  # warm-up: connections, plans, caches
            result = await paced(gateway, args.paced_rate, args.paced_seconds, customers, skus)
            report(
                f"paced {args.paced_rate:.0f} orders/s for {args.paced_seconds:.0f} s through the gateway: {result['requests']} orders, "
                f"{result['errors']} errors; latency p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms, p99 {result['p99']:.1f} ms, "
                f"max {result['max']:.1f} ms ({load_average()})"
            )
        result = sustained(stack.gateway_url, token, customers, skus, args.concurrency, args.sustained_seconds)
        report(
            f"sustained (wrk, {args.concurrency} connections, {args.sustained_seconds:.0f} s) through the gateway: "
            f"{result['rps']:.0f} orders/s, p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, "
            f"{result['requests']} requests, {result['non2xx']} non-2xx, {result['errors']} socket errors ({load_average()})"
        )
        await outbox_empty(dsn)

        async with httpx.AsyncClient(base_url=stack.service_url("orders"), timeout=3600, trust_env=False) as service:
            started = time.perf_counter()
            response = await service.post(
                "/api/v1/orders/imports",
                content=import_body(args.import_rows, args.customers, skus, uuid.uuid4().hex[:6]),
                headers={"Content-Type": "application/x-ndjson"},
            )
            ended = time.perf_counter()
            response.raise_for_status()
            job = response.json()
            drained = await outbox_empty(dsn)
        report(
            f"import {args.import_rows} orders (NDJSON, 2 lines each, streamed): {ended - started:.1f} s = "
            f"{args.import_rows / (ended - started):.0f} orders/s (created {job['rows_created']}, failed {job['rows_failed']}) "
            f"({load_average()})"
        )
        report(
            f"their {job['rows_created']} OrderPlacedV1 events all published {drained - started:.1f} s after the import started, "
            f"{drained - ended:.1f} s after it ended"
        )
    print("\n# " + f"{os.cpu_count()} CPUs, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {load_average()}")
    print("\n".join(results))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--paced-rate", type=float, default=200)
    parser.add_argument("--paced-seconds", type=float, default=30)
    parser.add_argument("--sustained-seconds", type=float, default=30)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--import-rows", type=int, default=1_000_000)
    parser.add_argument(
        "--import-only", action="store_true", help="only the import, with only the orders service running"
    )
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    asyncio.run(import_only(arguments) if arguments.import_only else main(arguments))
