"""Recommendations at scale: pair statistics over millions of order lines, the incremental
update per order event, and the read latencies at a million customers.

    python -m bench.recommendations [--lines 10000000] [--products 10000] [--customers 1000000]
                                    [--events 4000] [--requests 300]

Targets (issue 17): full recomputation over 10,000,000 order lines and 10,000 products
≤ 60 s; the incremental update keeps up with 2,000 order events/s; bought-together and
customer recommendations p95 ≤ 20 ms at 1,000,000 customers.

Method. The bench stack (``bench/_stack.py``) with PostgreSQL, the broker and the
recommendations service (its schedule off: we trigger the recomputation).

1. Load (not measured): ``--lines`` basket items generated set-based in SQL straight into
   ``rec_basket_items`` — orders of 1–7 draws (a repeated product collapses: ~3.4 distinct
   products on average), each order of a customer drawn uniformly from ``--customers``,
   placed over the last 300 days; products in families of 10: a draw takes a product of
   the order's family (families' popularity skewed, cubic) with probability 0.75, any
   product otherwise — so pairs are realistic: many rare ones, a few strong ones. ``--products``
   catalogue rows, ``known_customers`` and a profiling consent for every customer. The
   secondary indexes are built after the load, then ``VACUUM ANALYZE``.
2. Full recomputation: ``POST /api/v1/recommendations/statistics/recomputations`` twice
   (wall time client side; the service's own duration beside it).
3. Incremental: ``--events`` OrderPlacedV1 events (3 products each, existing customers
   with a profiling consent) published to the broker as fast as the producer goes; the
   rate is events / (first send → last one applied in the service's inbox). This is the
   real consumer path: one transaction per fetched batch, the basket, the counts and a
   ``recommendations.refreshed`` event per order.
4. Reads: ``--requests`` sequential GETs each of bought-together (random products) and
   customer recommendations (random customers), client-side wall time, after 20 warm-ups.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from relacja_contracts import CloudEvent, to_kafka_headers
from relacja_contracts.events import OrderPlacedV1
from relacja_contracts.events.orders import OrderLine
from relacja_messaging.kafka import producer_options

from ._stack import bench_stack, load_average, percentile

# Integers as UUIDs, so SQL and Python name the same customer and product without a lookup.
CUSTOMER_UUID = "('00000000-0000-4000-8000-' || lpad(to_hex({}), 12, '0'))::uuid"
PRODUCT_UUID = "('00000000-0000-4000-9000-' || lpad(to_hex({}), 12, '0'))::uuid"


def customer_uuid(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-8000-{n:012x}")


def product_uuid(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-9000-{n:012x}")


async def load(dsn: str, lines: int, products: int, customers: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET work_mem = '256MB'")
        await conn.execute("SET maintenance_work_mem = '512MB'")
        for index in ("ix_rec_basket_items_customer", "ix_rec_basket_items_product"):
            await conn.execute(f"DROP INDEX {index}")
        families = max(1, products // 10)
        # 1–7 draws per order (4 on average); draws that repeat a product in the order collapse.
        orders = int(lines / 3.4)
        await conn.execute(
            f"""
            INSERT INTO rec_products (product_id, sku, name, category, list_price, unit_cost, currency, active, version)
            SELECT {PRODUCT_UUID.format("p")}, 'SKU-' || p, 'Product ' || p, 'family-' || (p / 10),
                   (10 + (p % 10) * 15)::numeric, (6 + (p % 10) * 9)::numeric, 'PLN', true, 1
            FROM generate_series(0, {products - 1}) AS p
            """
        )
        await conn.execute(
            f"""
            INSERT INTO known_customers (customer_id, state)
            SELECT {CUSTOMER_UUID.format("c")}, 'active' FROM generate_series(0, {customers - 1}) AS c
            """
        )
        await conn.execute(
            f"""
            INSERT INTO rec_consents (consent_id, customer_id, granted, occurred_at)
            SELECT gen_random_uuid(), {CUSTOMER_UUID.format("c")}, true, now() - interval '400 days'
            FROM generate_series(0, {customers - 1}) AS c
            """
        )
        # Orders in chunks (one statement per chunk keeps each transaction's memory modest).
        chunk = 250_000
        for first in range(0, orders, chunk):
            last = min(orders, first + chunk) - 1
            await conn.execute(
                f"""
                INSERT INTO rec_basket_items (order_id, product_id, customer_id, placed_at, quantity)
                SELECT o.order_id,
                       {PRODUCT_UUID.format(f"CASE WHEN random() < 0.75 THEN least(o.family * 10 + (random() * 9)::int, {products - 1}) ELSE (random() * {products - 1})::int END")},
                       o.customer_id, o.placed_at, 1
                FROM (
                    SELECT gen_random_uuid() AS order_id,
                           {CUSTOMER_UUID.format(f"(random() * {customers - 1})::int")} AS customer_id,
                           now() - random() * interval '300 days' AS placed_at,
                           (power(random(), 3) * {families - 1})::int AS family,
                           1 + (random() * 6)::int AS size
                    FROM generate_series({first}, {last})
                ) AS o, LATERAL generate_series(1, o.size) AS s
                ON CONFLICT DO NOTHING
                """
            )
        await conn.execute("CREATE INDEX ix_rec_basket_items_customer ON rec_basket_items (customer_id, placed_at)")
        await conn.execute("CREATE INDEX ix_rec_basket_items_product ON rec_basket_items (product_id)")
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def order_event(customer: int, products: list[int]) -> OrderPlacedV1:
    order_id = uuid.uuid4()
    now = datetime.now(UTC)
    lines = [
        OrderLine(
            line_no=i + 1,
            product_id=product_uuid(p),
            sku=f"SKU-{p}",
            quantity=1,
            unit_price=Decimal("10.00"),
            discount_amount=Decimal("0"),
            line_amount=Decimal("10.00"),
        )
        for i, p in enumerate(products)
    ]
    total = Decimal(10 * len(products))
    return OrderPlacedV1(
        customer_id=customer_uuid(customer),
        order_id=order_id,
        order_number=f"B-{order_id.hex[:10]}",
        status="placed",
        channel="web",
        placed_at=now,
        currency="PLN",
        gross_amount=total,
        tax_amount=Decimal("0"),
        total_amount=total,
        returned_amount=Decimal("0"),
        refunded_amount=Decimal("0"),
        net_amount=total,
        cost_amount=None,
        margin=None,
        lines=lines,
        occurred_at=now,
    )


def stats(label: str, values_ms: list[float]) -> None:
    print(
        f"  {label}: n={len(values_ms)} p50 {percentile(values_ms, 50):.1f} ms, p95 {percentile(values_ms, 95):.1f} ms, "
        f"p99 {percentile(values_ms, 99):.1f} ms, max {max(values_ms):.1f} ms  ({load_average()})",
        flush=True,
    )


async def incremental(stack, dsn: str, events: int, products: int, customers: int) -> None:
    rng = random.Random(17)
    payloads = []
    for _ in range(events):
        family = rng.randrange(max(1, products // 10))
        payloads.append(
            order_event(
                rng.randrange(customers), sorted({min(family * 10 + rng.randrange(10), products - 1) for _ in range(3)})
            )
        )
    conn = await asyncpg.connect(dsn)
    producer = AIOKafkaProducer(**producer_options(stack.bootstrap_servers))
    await producer.start()
    try:
        before = await conn.fetchval("SELECT count(*) FROM inbox_events")
        started = time.perf_counter()
        for payload in payloads:
            event = CloudEvent.for_payload(payload, source="/relacja/bench")
            await producer.send(
                payload.topic.name,
                value=payload.model_dump_json().encode(),
                key=event.subject.encode(),
                headers=to_kafka_headers(event),
            )
        await producer.flush()
        sent = time.perf_counter() - started
        while await conn.fetchval("SELECT count(*) FROM inbox_events") - before < events:
            await asyncio.sleep(0.05)
        took = time.perf_counter() - started
        print(
            f"  {events:,} order events: sent in {sent:.1f} s, all applied after {took:.1f} s → "
            f"{events / took:,.0f} events/s  ({load_average()})",
            flush=True,
        )
    finally:
        await producer.stop()
        await conn.close()


async def reads(api: httpx.AsyncClient, requests: int, products: int, customers: int) -> None:
    rng = random.Random(5)
    for label, path in (
        (
            "bought-together",
            lambda: f"/api/v1/recommendations/products/{product_uuid(rng.randrange(products))}/bought-together",
        ),
        (
            "customer recommendations",
            lambda: f"/api/v1/recommendations/customers/{customer_uuid(rng.randrange(customers))}/recommendations",
        ),
    ):
        times = []
        for i in range(requests + 20):
            started = time.perf_counter()
            response = await api.get(path())
            response.raise_for_status()
            if i >= 20:
                times.append((time.perf_counter() - started) * 1000)
        stats(label, times)


async def main(args: argparse.Namespace) -> None:
    os.environ["RELACJA_RECOMMENDATIONS_RECOMPUTE_INTERVAL_SECONDS"] = "0"
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores; {load_average()}", flush=True)
    async with bench_stack(services=["recommendations"]) as stack:
        url = stack.database_url("recommendations")
        dsn = url.replace("+asyncpg", "")
        print(f"load: {args.lines:,} order lines, {args.products:,} products, {args.customers:,} customers", flush=True)
        t0 = time.perf_counter()
        await load(dsn, args.lines, args.products, args.customers)
        conn = await asyncpg.connect(dsn)
        loaded = await conn.fetchval("SELECT count(*) FROM rec_basket_items")
        await conn.close()
        print(f"  {loaded:,} basket items loaded in {time.perf_counter() - t0:.0f} s", flush=True)
        async with httpx.AsyncClient(base_url=stack.service_url("recommendations"), timeout=900) as api:
            print("full recomputation:", flush=True)
            for run in (1, 2):
                started = time.perf_counter()
                response = await api.post("/api/v1/recommendations/statistics/recomputations")
                response.raise_for_status()
                body = response.json()
                print(
                    f"  run {run}: {time.perf_counter() - started:.1f} s (server {body['duration_ms'] / 1000:.1f} s), "
                    f"{body['baskets']:,} baskets, {body['products']:,} products, {body['pairs']:,} pairs  ({load_average()})",
                    flush=True,
                )
            print("incremental:", flush=True)
            await incremental(stack, dsn, args.events, args.products, args.customers)
            print("reads:", flush=True)
            await reads(api, args.requests, args.products, args.customers)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=4_000)
    parser.add_argument("--requests", type=int, default=300)
    asyncio.run(main(parser.parse_args()))
