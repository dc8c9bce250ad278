"""Orders: placement through the gateway, historical import, and publishing the import's events.

    python -m bench.orders [--customers 10000] [--paced-rate 200] [--paced-seconds 30]
                           [--sustained-seconds 30] [--concurrency 32] [--import-rows 1000000]
                           [--placement-only] [--settle-seconds 10]
    python -m bench.orders --import-only [--import-rows 1000000]   # the import alone, then its events published
    python -m bench.orders --coupons [--paced-rate 200] [--paced-seconds 30] [--sustained-seconds 30] [--rounds 2]
                                                                   # placement with a coupon vs without

Targets (issue 4): placement through the gateway with the whole local stack ≥ 500 orders/s
sustained and p99 ≤ 100 ms at 200 orders/s; import ≥ 20,000 orders/s into the database;
the events of 1,000,000 imported orders published within 2 minutes. Issue 14: placing an
order with a coupon costs at most 15 % more than without one.

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
   Then CPU per placed order across every process of the suite (issue 18): CPU seconds of
   each process (``/proc``) from the start of the sustained run until the outbox is empty
   and ``--settle-seconds`` more (the consumers apply the orders' events), ÷ orders placed.
``--import-only`` runs step 3 with only the orders service (relay off; then one relay
publishes), ``--import-with-stack`` runs step 3 alone with the whole stack; both print CPU
per imported order of every process, and with ``--profile FILE`` a py-spy profile of the
orders process during the import (py-spy on PATH: ``uv tool install py-spy``).

3. Import (skipped with ``--placement-only``): ``--import-rows`` NDJSON rows (new external ids, 2 lines each, customers by
   external id) streamed in 64 KiB chunks to ``POST /api/v1/orders/imports`` on the service
   (not through the gateway); orders/s = rows / wall time of the request, which ends when
   the last batch — orders and their outbox rows — is committed. The relay publishes while
   the import runs; the time until the outbox is empty is reported from the start and from
   the end of the import.

``--coupons`` (issue 14): only PostgreSQL, the broker, the orders service and the gateway
run. Seeded as above, plus ``--coupon-count`` single-use public coupons (10 % off the
order, minimum order value 10.00 PLN, combinable) COPYed into the orders service's coupons
projection as its consumer would write them. Then ``--rounds`` rounds, each: paced
placement without and with a coupon (same rate, same bodies but for ``coupon_code``, each
order a coupon of its own: every order reads, prices and redeems one), then sustained
placement (wrk) without and with. The two variants alternate so that a slower machine
or a fuller database weighs on both alike; the cost of the coupon is the ratio of the
medians over the rounds (p50, p99, orders/s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import create_async_engine

from relacja_messaging import OutboxRelay
from relacja_messaging.relay import RelaySettings

from ._stack import bench_stack, cpu_seconds, load_average, median, percentile

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local customers = {%(customers)s}
local skus = {%(skus)s}
local coupon_prefix = "%(coupon_prefix)s"
local next_coupon = %(first_coupon)d
request = function()
  local coupon = ""
  if coupon_prefix ~= "" then
    coupon = string.format(',"coupon_code":"%%s%%d"', coupon_prefix, next_coupon)
    next_coupon = next_coupon + 1
  end
  local body = string.format('{"customer_id":"%%s","channel":"web","currency":"PLN","lines":[{"sku":"%%s","quantity":2},{"sku":"%%s","quantity":1,"discount_percent":"10"}]%%s}',
    customers[math.random(#customers)], skus[math.random(#skus)], skus[math.random(#skus)], coupon)
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


COUPON_PREFIX = "BENCH-C-"


async def seed_coupons(dsn: str, count: int) -> None:
    """``count`` single-use public coupons ``BENCH-C-<n>``: 10 % off the order, minimum 10.00
    PLN, combinable (the bench's orders have a line discount) — as the consumer writes them."""
    now = datetime.now(UTC)
    offer = uuid.uuid4()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table(
            "coupons",
            columns=[
                "coupon_id",
                "code",
                "code_key",
                "offer_id",
                "discount_kind",
                "discount_value",
                "currency",
                "applies_to",
                "minimum_order_value",
                "max_uses",
                "combinable",
                "issued_at",
            ],
            records=[
                (
                    uuid.uuid4(),
                    code,
                    code,
                    offer,
                    "percentage",
                    Decimal("10"),
                    "PLN",
                    "order",
                    Decimal("10.00"),
                    1,
                    True,
                    now,
                )
                for code in (f"{COUPON_PREFIX}{n}" for n in range(count))
            ],
        )
        await conn.execute("ANALYZE coupons")
    finally:
        await conn.close()


def order_body(rng: random.Random, customers: list[uuid.UUID], skus: list[str], coupon: str | None = None) -> dict:
    body: dict = {
        "customer_id": str(rng.choice(customers)),
        "channel": "web",
        "currency": "PLN",
        "lines": [
            {"sku": rng.choice(skus), "quantity": 2},
            {"sku": rng.choice(skus), "quantity": 1, "discount_percent": "10"},
        ],
    }
    if coupon is not None:
        body["coupon_code"] = coupon
    return body


async def paced(
    client: httpx.AsyncClient,
    rate: float,
    seconds: float,
    customers: list[uuid.UUID],
    skus: list[str],
    coupons: Iterator[str] | None = None,
) -> dict:
    """Start request *i* at ``start + i / rate`` (open loop), each in its own task created
    at its time (thousands of waiting tasks would make the client itself the bottleneck)."""
    rng = random.Random(1)
    latencies: list[float] = []
    errors = 0

    async def one(at: float) -> None:
        nonlocal errors
        try:
            coupon = None if coupons is None else next(coupons)
            response = await client.post("/api/v1/orders", json=order_body(rng, customers, skus, coupon))
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
    url: str,
    token: str,
    customers: list[uuid.UUID],
    skus: list[str],
    concurrency: int,
    seconds: float,
    first_coupon: int | None = None,
) -> dict:
    """wrk for ``seconds``; with ``first_coupon``, each request uses the next coupon from it."""
    script = WRK_SCRIPT % {
        "customers": ",".join(f'"{c}"' for c in customers[:2000]),
        "skus": ",".join(f'"{s}"' for s in skus),
        "coupon_prefix": "" if first_coupon is None else COUPON_PREFIX,
        "first_coupon": first_coupon or 0,
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
            skus = await create_products(service)
            run = await timed_import(stack, service, args, skus)
            used = cpu_used(run.cpu_before, cpu_seconds(stack.config.state_dir))
            profile = finish_import_profile(run.spy, args.profile)
        started, ended, job = run.started, run.ended, run.job
        print(
            f"import only (orders API process alone, relay off), {args.import_rows} orders (NDJSON, 2 lines each, body built "
            f"beforehand): {ended - started:.1f} s = {args.import_rows / (ended - started):.0f} orders/s "
            f"(created {job['rows_created']}, failed {job['rows_failed']}) ({load_average()})",
            flush=True,
        )
        print(
            "  CPU seconds during the import: "
            + ", ".join(f"{part} {seconds:.1f}" for part, seconds in sorted(used.items()))
            + "; per order: "
            + ", ".join(f"{part} {seconds * 1e6 / args.import_rows:.0f} µs" for part, seconds in sorted(used.items())),
            flush=True,
        )
        if profile:
            print(profile, flush=True)

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


@dataclass
class TimedImport:
    started: float
    ended: float
    job: dict[str, Any]
    cpu_before: dict[str, float]
    spy: tuple[subprocess.Popen[bytes], Path] | None


async def timed_import(
    stack: Any, service: httpx.AsyncClient, args: argparse.Namespace, skus: list[str]
) -> TimedImport:
    """One ``POST /api/v1/orders/imports`` of ``--import-rows`` orders, the body built
    beforehand (so the clock times the service, not this script); py-spy attached with
    ``--profile`` (stop it with :func:`finish_import_profile`)."""
    chunks = [chunk async for chunk in import_body(args.import_rows, args.customers, skus, uuid.uuid4().hex[:6])]

    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    spy = import_profiler(stack, "orders", args.profile)
    before = cpu_seconds(stack.config.state_dir)
    started = time.perf_counter()
    response = await service.post(
        "/api/v1/orders/imports", content=body(), headers={"Content-Type": "application/x-ndjson"}
    )
    ended = time.perf_counter()
    response.raise_for_status()
    return TimedImport(started, ended, response.json(), before, spy)


def cpu_used(before: dict[str, float], now: dict[str, float]) -> dict[str, float]:
    """CPU seconds of each process of the stack between two ``cpu_seconds`` readings (not this script's)."""
    return {part: seconds - before.get(part, 0.0) for part, seconds in now.items() if part != "bench (this script)"}


def import_profiler(stack: Any, service: str, out: str | None) -> tuple[subprocess.Popen[bytes], Path] | None:
    """py-spy (``--format raw``, 100 Hz, ``--gil``) on ``service``'s process until
    :func:`finish_import_profile`; None without ``--profile``."""
    if not out:
        return None
    if shutil.which("py-spy") is None:
        raise SystemExit("--profile needs py-spy on PATH (uv tool install py-spy)")
    pid = json.loads((stack.config.state_dir / "pids.json").read_text())[service]["pid"]
    raw = Path(out).with_suffix(".raw")
    command = ["py-spy", "record", "-p", str(pid), "-r", "100", "--gil", "-f", "raw", "-o", str(raw)]
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)  # attached before the clock starts
    return spy, raw


def finish_import_profile(spy: tuple[subprocess.Popen[bytes], Path] | None, out: str | None) -> str:
    """Stop py-spy (SIGINT writes its file), write the summary to ``out`` → the summary."""
    if spy is None or out is None:
        return ""
    from .write_path import summarise_profile  # here: write_path imports this module

    process, raw = spy
    process.send_signal(signal.SIGINT)
    process.wait(timeout=120)
    summary = summarise_profile(raw)
    Path(out).write_text(summary + "\n")
    return f"py-spy profile of the service (summary in {out}, stacks in {raw}):\n{summary}"


async def import_with_stack(args: argparse.Namespace) -> None:
    """Step 3 alone with the whole stack running (every consumer of ``relacja.orders``
    applies the import's events meanwhile, the relay in the orders process publishes
    them): orders/s of the import, then CPU per imported order of every process from the
    import's start until the outbox is empty and ``--settle-seconds`` more."""
    os.environ["RELACJA_ORDERS_LOG_LEVEL"] = "WARNING"
    async with bench_stack() as stack:
        dsn = stack.config.postgres_dsn("relacja_orders")
        await seed_customers(dsn, args.customers)
        async with httpx.AsyncClient(base_url=stack.service_url("orders"), timeout=3600, trust_env=False) as service:
            skus = await create_products(service)
            run = await timed_import(stack, service, args, skus)
            before, started, ended, job = run.cpu_before, run.started, run.ended, run.job
            during = cpu_seconds(stack.config.state_dir)
            profile = finish_import_profile(run.spy, args.profile)
            load_during = load_average()
            drained = await outbox_empty(dsn)
            await asyncio.sleep(args.settle_seconds)
            after = cpu_seconds(stack.config.state_dir)
    rows = args.import_rows

    def per_order(now: dict[str, float]) -> str:
        used = cpu_used(before, now)
        parts = sorted(used.items(), key=lambda item: -item[1])
        return f"{sum(used.values()) * 1e6 / rows:.0f} µs — " + ", ".join(
            f"{part} {seconds * 1e6 / rows:.0f}" for part, seconds in parts
        )

    print(f"\n# {os.cpu_count()} CPUs, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", flush=True)
    print(
        f"import {rows} orders, whole stack (NDJSON, 2 lines each, body built beforehand): {ended - started:.1f} s = "
        f"{rows / (ended - started):.0f} orders/s (created {job['rows_created']}, failed {job['rows_failed']}) ({load_during})\n"
        f"  events all published {drained - ended:.1f} s after it ended\n"
        f"  CPU per imported order during the import: {per_order(during)}\n"
        f"  CPU per imported order until published + {args.settle_seconds:g} s: {per_order(after)}",
        flush=True,
    )
    if profile:
        print(profile, flush=True)


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
        before = cpu_seconds(stack.config.state_dir)
        result = sustained(stack.gateway_url, token, customers, skus, args.concurrency, args.sustained_seconds)
        report(
            f"sustained (wrk, {args.concurrency} connections, {args.sustained_seconds:.0f} s) through the gateway: "
            f"{result['rps']:.0f} orders/s, p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, "
            f"{result['requests']} requests, {result['non2xx']} non-2xx, {result['errors']} socket errors ({load_average()})"
        )
        await outbox_empty(dsn)
        # Issue 18: CPU per placed order across every process of the suite, the consumers'
        # work on the orders' events included (measured until the outbox is empty and then
        # a few seconds more, so that the consumers have applied what was published).
        await asyncio.sleep(args.settle_seconds)
        used = cpu_used(before, cpu_seconds(stack.config.state_dir))
        placed = max(result["requests"] - result["non2xx"], 1)
        report(
            f"CPU per placed order, all processes (sustained run + {args.settle_seconds:g} s to settle): "
            f"{sum(used.values()) * 1000 / placed:.2f} ms — "
            + ", ".join(
                f"{part} {seconds * 1000 / placed:.2f}" for part, seconds in sorted(used.items(), key=lambda i: -i[1])
            )
        )
        if not args.placement_only:
            async with httpx.AsyncClient(
                base_url=stack.service_url("orders"), timeout=3600, trust_env=False
            ) as service:
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


async def create_products(client: httpx.AsyncClient) -> list[str]:
    skus = []
    for n in range(20):
        sku = f"BENCH-{n:03d}"
        created = await client.post(
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
    return skus


CPU_PARTS = ("gateway", "orders", "postgres", "total")


def cpu_per_order(before: dict[str, float], after: dict[str, float], orders: int) -> dict[str, float]:
    """Milliseconds of CPU per order of the stack's parts between two ``cpu_seconds`` readings:
    on a shared machine, what an order costs is better seen in CPU than in wall time."""
    used = {part: after.get(part, 0.0) - before.get(part, 0.0) for part in ("gateway", "orders", "postgres")}
    used["total"] = sum(used.values())
    return {part: seconds * 1000 / max(orders, 1) for part, seconds in used.items()}


def cpu_text(cpu_ms: dict[str, float]) -> str:
    return ", ".join(f"{part} {cpu_ms[part]:.2f} ms" for part in CPU_PARTS)


async def coupon_comparison(args: argparse.Namespace) -> None:
    """Placement with a coupon against placement without one (issue 14: at most 15 % more)."""
    os.environ["RELACJA_GATEWAY_RATE_LIMIT_RATE"] = "1000000"
    os.environ["RELACJA_GATEWAY_RATE_LIMIT_BURST"] = "1000000"
    os.environ["RELACJA_GATEWAY_LOG_LEVEL"] = "WARNING"
    os.environ["RELACJA_ORDERS_LOG_LEVEL"] = "WARNING"
    lines: list[str] = []

    def report(line: str) -> None:
        lines.append(line)
        print(line, flush=True)

    async with bench_stack(services=["orders", "gateway"]) as stack:
        dsn = stack.config.postgres_dsn("relacja_orders")
        customers = await seed_customers(dsn, args.customers)
        await seed_coupons(dsn, args.coupon_count)
        token = stack.token(["orders:read", "orders:write"])
        next_code = 0  # the first coupon no order has used yet

        def codes() -> Iterator[str]:
            return (f"{COUPON_PREFIX}{n}" for n in range(next_code, args.coupon_count))

        paced_runs: dict[str, list[dict]] = {"without": [], "with": []}
        wrk_runs: dict[str, list[dict]] = {"without": [], "with": []}
        async with httpx.AsyncClient(
            base_url=stack.gateway_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
            limits=httpx.Limits(max_connections=100),
            trust_env=False,
        ) as gateway:
            skus = await create_products(gateway)
            await paced(gateway, 50, 4, customers, skus)  # warm-up: connections, plans, caches
            warm = await paced(gateway, 50, 4, customers, skus, codes())
            next_code += warm["requests"]
            for round_no in range(1, args.rounds + 1):
                # Odd rounds run "without" first, even rounds "with" first: neither always follows the other.
                order = ("without", "with") if round_no % 2 else ("with", "without")
                for variant in order:
                    coupons = codes() if variant == "with" else None
                    before = cpu_seconds(stack.config.state_dir)
                    result = await paced(gateway, args.paced_rate, args.paced_seconds, customers, skus, coupons)
                    result["cpu_ms"] = cpu_per_order(before, cpu_seconds(stack.config.state_dir), result["requests"])
                    if coupons is not None:
                        next_code += result["requests"]  # one code per request
                    paced_runs[variant].append(result)
                    report(
                        f"round {round_no}, paced {args.paced_rate:.0f}/s for {args.paced_seconds:.0f} s, {variant} a coupon: "
                        f"{result['requests']} orders, {result['errors']} errors; p50 {result['p50']:.1f} ms, "
                        f"p95 {result['p95']:.1f} ms, p99 {result['p99']:.1f} ms; CPU per order {cpu_text(result['cpu_ms'])} "
                        f"({load_average()})"
                    )
                for variant in order:
                    first = next_code if variant == "with" else None
                    before = cpu_seconds(stack.config.state_dir)
                    result = sustained(
                        stack.gateway_url, token, customers, skus, args.concurrency, args.sustained_seconds, first
                    )
                    result["cpu_ms"] = cpu_per_order(before, cpu_seconds(stack.config.state_dir), result["requests"])
                    if first is not None:
                        # wrk counts completed requests; those still in flight at the end used codes too.
                        next_code += result["requests"] + args.concurrency
                    wrk_runs[variant].append(result)
                    report(
                        f"round {round_no}, sustained (wrk, {args.concurrency} connections, {args.sustained_seconds:.0f} s), "
                        f"{variant} a coupon: {result['rps']:.0f} orders/s, p50 {result['p50']:.1f} ms, "
                        f"p99 {result['p99']:.1f} ms, {result['requests']} requests, {result['non2xx']} non-2xx, "
                        f"{result['errors']} socket errors; CPU per order {cpu_text(result['cpu_ms'])} ({load_average()})"
                    )
        await asyncio.sleep(2)  # requests wrk left in flight finish
        used = await asyncpg.connect(dsn)
        try:
            counts = await used.fetchrow(
                "SELECT (SELECT count(*) FROM orders WHERE coupon_code IS NOT NULL) AS redeemed, "
                "(SELECT count(*) FROM coupons WHERE uses > 0) AS coupons_used"
            )
            assert counts is not None  # an aggregate query always returns its row
            redeemed, coupons_used = counts["redeemed"], counts["coupons_used"]
        finally:
            await used.close()

    def ratio(runs: dict[str, list[dict]], key: str, part: str | None = None) -> str:
        def value(run: dict) -> float:
            return float(run[key] if part is None else run[key][part])

        without, with_ = median([value(r) for r in runs["without"]]), median([value(r) for r in runs["with"]])
        return f"{with_:.2f} vs {without:.2f} ({(with_ / without - 1) * 100:+.1f} %)"

    report(
        f"with a coupon vs without (medians of {args.rounds} rounds): paced p50 {ratio(paced_runs, 'p50')} ms, "
        f"p95 {ratio(paced_runs, 'p95')} ms, p99 {ratio(paced_runs, 'p99')} ms; "
        f"sustained orders/s {ratio(wrk_runs, 'rps')}, p50 {ratio(wrk_runs, 'p50')} ms, p99 {ratio(wrk_runs, 'p99')} ms"
    )
    report(
        "CPU ms per order, with vs without (medians), sustained: "
        + ", ".join(f"{part} {ratio(wrk_runs, 'cpu_ms', part)}" for part in CPU_PARTS)
        + "; paced: "
        + ", ".join(f"{part} {ratio(paced_runs, 'cpu_ms', part)}" for part in CPU_PARTS)
    )
    report(f"orders placed with a coupon: {redeemed}; coupons used: {coupons_used} (each once)")
    print("\n# " + f"{os.cpu_count()} CPUs, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {load_average()}")
    print("\n".join(lines))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--paced-rate", type=float, default=200)
    parser.add_argument("--paced-seconds", type=float, default=30)
    parser.add_argument("--sustained-seconds", type=float, default=30)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--import-rows", type=int, default=1_000_000)
    parser.add_argument("--placement-only", action="store_true", help="skip the import step")
    parser.add_argument(
        "--settle-seconds", type=float, default=10, help="after the sustained run, until CPU per order is read"
    )
    parser.add_argument(
        "--import-only", action="store_true", help="only the import, with only the orders service running"
    )
    parser.add_argument(
        "--import-with-stack", action="store_true", help="only the import, with the whole stack running"
    )
    parser.add_argument("--profile", help="with --import-only / --import-with-stack: py-spy the orders process here")
    parser.add_argument(
        "--coupons", action="store_true", help="only placement, with a coupon vs without (orders service and gateway)"
    )
    parser.add_argument("--coupon-count", type=int, default=100_000, help="single-use coupons seeded for --coupons")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each variant for --coupons")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.coupons:
        asyncio.run(coupon_comparison(arguments))
    else:
        runs = import_only if arguments.import_only else import_with_stack if arguments.import_with_stack else main
        asyncio.run(runs(arguments))
