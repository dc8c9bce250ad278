"""Catch-up after a history import: from the import's end until every consumer has applied every event.

    python -m bench.catch_up [--customers 20000] [--orders 100000] [--warmup-orders 5000] [--no-scores]
    python -m bench.catch_up --direct [...]   # segmentation and churn alone, events straight on the broker

Target (issue 18): 1,000,000 imported orders (20,000 customers) caught up ≤ 5 min after
the import ends; every consumer ≥ 5,000 events/s.

Method. The whole bench stack (``bench/_stack.py``: PostgreSQL, the broker, every service
with its relay and consumers; RELACJA_BENCH_PORT_OFFSET moves the ports), fresh.

1. ``--customers`` customers imported through ``POST /api/v1/customers/imports``
   (external ids ``bench-<n>``); we wait until the orders service's projection knows them
   all (the orders import resolves customers by external id), and until every consumer
   has applied every event of it (quiet, below).
2. Unless ``--no-scores``: the day-to-day state in which scores exist — ``--warmup-orders``
   orders imported and applied, then segmentation's full recomputation and a churn model
   fitted and activated, so that both services score every touched customer on every
   event from then on (without them neither scores anything: a fresh install).
3. ``--orders`` orders imported through ``POST /api/v1/orders/imports`` (NDJSON streamed,
   as ``bench/orders.py``). The clock starts when the import's response arrives.
4. Every second: unpublished outbox rows in every service's database and the newest
   inbox row of every consumer. Caught up = every outbox is empty and no consumer has
   applied anything for ``--quiet`` seconds; the catch-up time is the newest inbox row's
   ``processed_at`` minus the import's end (both PostgreSQL clock), so the quiet period
   is not counted.

``--direct`` isolates the two scoring consumers (segmentation and churn): only they run
(with PostgreSQL and the broker); CustomerRegisteredV1 and OrderPlacedV1 events as the
customers and orders services publish them are produced straight to the broker (no
import, no relay), the warm-up and scores as above, and the clock starts when the last
order event is acknowledged by the broker.

Per consumer: the events it applied from the import's start, the time from its first to
its last, and events/s over that span; CPU seconds of every process during the catch-up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from relacja_contracts import CloudEvent, EventPayload, to_kafka_headers
from relacja_contracts.events import CustomerRegisteredV1, OrderPlacedV1
from relacja_devstack import Stack
from relacja_messaging.kafka import producer_options

from ._stack import bench_stack, cpu_seconds, load_average
from .customers_master import chunked, import_rows
from .orders import import_body

PRODUCTS = 20
HISTORY_START = datetime(2015, 1, 1, tzinfo=UTC)  # as bench/orders.py: a minute per order from here


async def databases(stack: Stack) -> dict[str, str]:
    """service name → DSN of its database (services without one are left out)."""
    return {
        spec.name: stack.database_url(spec.name).replace("+asyncpg", "")
        for spec in stack.config.services
        if spec.database
    }


async def db_now(dsn: str) -> float:
    conn = await asyncpg.connect(dsn)
    try:
        return float(await conn.fetchval("SELECT extract(epoch FROM clock_timestamp())"))
    finally:
        await conn.close()


async def settle(dsns: dict[str, str], since: float, quiet: float, timeout: float) -> dict[str, dict]:
    """Wait until every outbox is empty and no consumer applied anything for ``quiet`` s;
    then per consumer: events applied since ``since`` (epoch s) and their first/last time."""
    conns = {name: await asyncpg.connect(dsn) for name, dsn in dsns.items()}
    started = time.perf_counter()
    last_change, last_seen, last_report = time.perf_counter(), None, 0.0
    try:
        while True:
            pending, newest = 0, 0.0
            for conn in conns.values():
                pending += await conn.fetchval("SELECT count(*) FROM outbox_events WHERE published_at IS NULL")
                newest = max(
                    newest,
                    float(
                        await conn.fetchval(
                            "SELECT coalesce(extract(epoch FROM max(processed_at)), 0) FROM inbox_events"
                        )
                    ),
                )
            if (pending, newest) != last_seen:
                last_seen, last_change = (pending, newest), time.perf_counter()
            now = time.perf_counter()
            if now - last_report >= 15:
                last_report = now
                print(f"  … {now - started:.0f} s: {pending} outbox rows unpublished ({load_average()})", flush=True)
            if pending == 0 and now - last_change >= quiet:
                break
            if now - started > timeout:
                raise TimeoutError(f"not caught up within {timeout} s")
            await asyncio.sleep(1)
        per_consumer: dict[str, dict] = {}
        for service, conn in conns.items():
            for row in await conn.fetch(
                "SELECT consumer, count(*) AS n, extract(epoch FROM min(processed_at)) AS first, "
                "extract(epoch FROM max(processed_at)) AS last FROM inbox_events "
                "WHERE processed_at >= to_timestamp($1) GROUP BY consumer",
                since,
            ):
                per_consumer[f"{service}/{row['consumer']}"] = {
                    "n": row["n"],
                    "first": float(row["first"]),
                    "last": float(row["last"]),
                }
        return per_consumer
    finally:
        for conn in conns.values():
            await conn.close()


async def import_customers(stack: Stack, count: int) -> float:
    lines = []
    for n, line in enumerate(import_rows(count, uuid.uuid4().hex[:6])):
        row = json.loads(line)
        row["external_id"] = f"bench-{n}"  # the customer ids bench/orders.py's import refers to
        lines.append((json.dumps(row) + "\n").encode())
    async with httpx.AsyncClient(base_url=stack.service_url("customers"), timeout=3600, trust_env=False) as client:
        started = time.perf_counter()
        response = await client.post(
            "/api/v1/customers/imports", content=chunked(lines), headers={"Content-Type": "application/x-ndjson"}
        )
        response.raise_for_status()
        took = time.perf_counter() - started
    print(f"  customers import: {count:,} rows in {took:.1f} s ({response.json().get('rows_failed')} failed)")
    return took


async def wait_known(stack: Stack, count: int, timeout: float = 1800) -> None:
    conn = await asyncpg.connect(stack.database_url("orders").replace("+asyncpg", ""))
    started = time.perf_counter()
    try:
        while await conn.fetchval("SELECT count(*) FROM known_customers WHERE external_id LIKE 'bench-%'") < count:
            if time.perf_counter() - started > timeout:
                raise TimeoutError("the orders service did not learn the imported customers")
            await asyncio.sleep(1)
    finally:
        await conn.close()


async def create_products(orders: httpx.AsyncClient) -> list[str]:
    skus = []
    for n in range(PRODUCTS):
        sku = f"BENCH-{n:03d}"
        created = await orders.post(
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


async def import_orders(orders: httpx.AsyncClient, rows: int, customers: int, skus: list[str]) -> dict:
    chunks = [chunk async for chunk in import_body(rows, customers, skus, uuid.uuid4().hex[:6])]

    async def body():  # built beforehand: the clock measures the service, not this script
        for chunk in chunks:
            yield chunk

    response = await orders.post(
        "/api/v1/orders/imports", content=body(), headers={"Content-Type": "application/x-ndjson"}
    )
    response.raise_for_status()
    job: dict = response.json()
    return job


async def publish(stack: Stack, payloads: list[EventPayload]) -> None:
    """As a relay would: binary-mode CloudEvents keyed by subject, all acknowledged at the end."""
    producer = AIOKafkaProducer(**producer_options(stack.bootstrap_servers))
    await producer.start()
    try:
        for payload in payloads:
            event = CloudEvent.for_payload(payload, source="/relacja/bench")
            await producer.send(
                payload.topic.name,
                value=payload.model_dump_json().encode(),
                key=event.subject.encode(),
                headers=to_kafka_headers(event),
            )
        await producer.flush()
    finally:
        await producer.stop()


def registrations(customers: list[uuid.UUID]) -> list[EventPayload]:
    return [
        CustomerRegisteredV1(
            customer_id=customer,
            kind="person",
            display_name=f"Bench {n}",
            lifecycle_stage="customer",
            registered_at=HISTORY_START - timedelta(days=30),
            tags=["vip"] if n % 20 == 0 else [],
        )
        for n, customer in enumerate(customers)
    ]


def placed_orders(customers: list[uuid.UUID], count: int, offset: int) -> list[EventPayload]:
    """Imported orders as OrderPlacedV1 (status delivered), the amounts of bench/orders.py's rows."""
    rng = random.Random(offset + 5)
    now = datetime.now(UTC)
    out: list[EventPayload] = []
    for n in range(offset, offset + count):
        quantity = rng.randint(1, 3)
        net = Decimal(quantity * 10 + 5)
        cost = Decimal(quantity * 6)
        order_id = uuid.uuid4()
        out.append(
            OrderPlacedV1(
                customer_id=rng.choice(customers),
                order_id=order_id,
                order_number=f"B-{n}",
                external_id=f"bench-order-{n}",
                status="delivered",
                channel="store",
                placed_at=HISTORY_START + timedelta(minutes=n),
                currency="PLN",
                gross_amount=net,
                tax_amount=Decimal(0),
                total_amount=net,
                returned_amount=Decimal(0),
                refunded_amount=Decimal(0),
                net_amount=net,
                cost_amount=cost,
                margin=net - cost,
                imported=True,
                occurred_at=now,
            )
        )
    return out


async def direct(args: argparse.Namespace) -> None:
    """Segmentation and churn alone, their events produced straight to the broker."""
    async with bench_stack(services=["segmentation", "churn"]) as stack:
        dsns = await databases(stack)
        customers = [uuid.uuid4() for _ in range(args.customers)]
        print(f"1. {args.customers:,} CustomerRegisteredV1", flush=True)
        await publish(stack, registrations(customers))
        await settle(dsns, 0, args.quiet, args.timeout)
        if not args.no_scores:
            print(f"2. warm-up: {args.warmup_orders:,} OrderPlacedV1, then scores", flush=True)
            await publish(stack, placed_orders(customers, args.warmup_orders, 0))
            await settle(dsns, 0, args.quiet, args.timeout)
            await enable_scores(stack)
            await settle(dsns, 0, args.quiet, args.timeout)
        events = placed_orders(customers, args.orders, args.warmup_orders)
        any_dsn = next(iter(dsns.values()))
        print(f"3. {args.orders:,} OrderPlacedV1 produced ({load_average()})", flush=True)
        started = await db_now(any_dsn)
        await publish(stack, events)
        ended = await db_now(any_dsn)
        print(f"  produced and acknowledged in {ended - started:.1f} s ({load_average()})", flush=True)
        await report(stack, dsns, args, started, ended)


async def report(stack: Stack, dsns: dict[str, str], args: argparse.Namespace, started: float, ended: float) -> None:
    """Wait until caught up; print the catch-up time, each consumer's rate and the CPU used."""
    cpu_before = cpu_seconds(stack.config.state_dir)
    per_consumer = await settle(dsns, started, args.quiet, args.timeout)
    cpu_after = cpu_seconds(stack.config.state_dir)
    finished = max(c["last"] for c in per_consumer.values())
    print(
        f"4. caught up {finished - ended:.1f} s after the import ended ({finished - started:.1f} s after it started) "
        f"({load_average()})",
        flush=True,
    )
    for name, c in sorted(per_consumer.items(), key=lambda item: item[1]["last"]):
        span = max(c["last"] - c["first"], 1e-3)
        print(
            f"  {name:40s} {c['n']:>9,} events, {c['first'] - started:7.1f}…{c['last'] - started:7.1f} s "
            f"from the import's start, {c['n'] / span:,.0f} events/s; done {c['last'] - ended:7.1f} s "
            "after the import's end",
            flush=True,
        )
    used = {part: cpu_after[part] - cpu_before.get(part, 0.0) for part in cpu_after}
    print(
        "  CPU seconds from the import's end until caught up: "
        + ", ".join(f"{part} {seconds:.1f}" for part, seconds in sorted(used.items(), key=lambda i: -i[1])),
        flush=True,
    )


async def enable_scores(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.service_url("segmentation"), timeout=600, trust_env=False) as seg:
        response = await seg.post("/api/v1/segmentation/recomputations", json={})
        response.raise_for_status()
        print(f"  segmentation recomputation: {response.json()['customers_scored']:,} customers scored", flush=True)
    async with httpx.AsyncClient(base_url=stack.service_url("churn"), timeout=600, trust_env=False) as churn:
        # bench/orders.py's history starts 2015-01-01 and runs a minute per order.
        response = await churn.post(
            "/api/v1/churn/models",
            json={"calibration_end": date(2016, 12, 31).isoformat(), "activate": True},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        response.raise_for_status()
        run_id = response.json()["id"]
        for _ in range(600):
            card = (await churn.get(f"/api/v1/churn/models/{run_id}")).json()
            if card["status"] in ("succeeded", "failed"):
                break
            await asyncio.sleep(1)
        print(f"  churn model {run_id}: {card['status']}, active: {card.get('active')}", flush=True)
        if card["status"] != "succeeded":
            raise RuntimeError(f"the churn model did not fit: {card}")


async def main(args: argparse.Namespace) -> None:
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores; {load_average()}", flush=True)
    for service in ("CUSTOMERS", "ORDERS", "TICKETS", "SEGMENTATION", "CHURN", "GATEWAY"):
        os.environ.setdefault(f"RELACJA_{service}_LOG_LEVEL", "WARNING")
    os.environ["RELACJA_SEGMENTATION_RECOMPUTE_INTERVAL_SECONDS"] = "0"  # we trigger it
    if args.direct:
        await direct(args)
        return
    async with bench_stack() as stack:
        dsns = await databases(stack)
        print(f"1. {args.customers:,} customers", flush=True)
        await import_customers(stack, args.customers)
        await wait_known(stack, args.customers)
        await settle(dsns, 0, args.quiet, args.timeout)
        async with httpx.AsyncClient(base_url=stack.service_url("orders"), timeout=3600, trust_env=False) as orders:
            skus = await create_products(orders)
            if not args.no_scores:
                print(f"2. warm-up: {args.warmup_orders:,} orders, then scores", flush=True)
                await import_orders(orders, args.warmup_orders, args.customers, skus)
                await settle(dsns, 0, args.quiet, args.timeout)
                await enable_scores(stack)
                await settle(dsns, 0, args.quiet, args.timeout)
            print(f"3. {args.orders:,} orders imported ({load_average()})", flush=True)
            any_dsn = next(iter(dsns.values()))
            import_started = await db_now(any_dsn)
            started = time.perf_counter()
            job = await import_orders(orders, args.orders, args.customers, skus)
            import_ended = await db_now(any_dsn)
            print(
                f"  import: {time.perf_counter() - started:.1f} s = {args.orders / (time.perf_counter() - started):,.0f} "
                f"orders/s (created {job['rows_created']:,}, failed {job['rows_failed']}) ({load_average()})",
                flush=True,
            )
        await report(stack, dsns, args, import_started, import_ended)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--warmup-orders", type=int, default=5_000)
    parser.add_argument("--no-scores", action="store_true", help="no recomputation, no churn model: nobody scores")
    parser.add_argument("--direct", action="store_true", help="segmentation and churn alone, events on the broker")
    parser.add_argument("--quiet", type=float, default=15.0, help="seconds without any applied event = caught up")
    parser.add_argument("--timeout", type=float, default=3600.0)
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
