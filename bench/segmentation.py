"""Segmentation at scale: 1,000,000 customers with 10,000,000 orders.

    python -m bench.segmentation [--customers 1000000] [--orders 10000000] [--live-events 300] [--requests 300]

Targets (issue 7): full recomputation of RFM, ABC and quadrants ≤ 30 s; a live order
event applied p99 ≤ 200 ms from commit in the orders service; segment member page
p95 ≤ 50 ms; preview count of a rule p95 ≤ 500 ms.

Method. The bench stack (``bench/_stack.py``: PostgreSQL, the broker, the segmentation
service and the orders service (for the live orders only); RELACJA_BENCH_PORT_OFFSET moves the ports). The service runs with its
scheduled recomputation off (we trigger it) and its outbox relay off, so the millions
of segment-changed events of the first scoring do not compete for the two cores while
we measure (they are written to the outbox all the same, inside the measured time).

1. Load (not measured): customers and orders generated set-based in SQL straight into
   the projection tables (``customer_profiles``, ``seg_orders``): every customer has one
   order, the other orders go to customers drawn with a strong skew (u⁸), so many buy
   once and a few buy very often; order dates over three years, 3 % cancelled, 5 % with
   a partial return, margins 10–40 % with 10 % unknown cost; tags and consents on the
   profiles. Then the aggregates are built with the service's set-based rebuild and
   ``VACUUM ANALYZE``. Three rule-based segments are saved (their membership is
   materialised and refreshed in every recomputation and on every event).
2. Full recomputation: ``POST /api/v1/segmentation/recomputations`` three times — the
   first scoring (everybody changes: one event per customer and dimension), a rerun with
   nothing changed, and a rerun 30 days later (reference date moved: recency and quadrants
   move). Wall time of the request, client side.
3. Live order events, two ways, ``--live-events`` each, for random customers, one at a
   time; the order row is polled every 2 ms in the segmentation database:
   a. **from the orders service's commit** (the target's definition): ``POST
      /api/v1/orders`` straight to the orders service (running with its relay, the
      customers seeded into its projection); latency = from its 201 arriving (the commit
      is done before the answer is sent) until segmentation has applied the event. This
      includes the orders relay's publish and the broker.
   b. **from the broker**: OrderPlacedV1 published with ``send_and_wait``; latency = from
      the broker having it until it is applied — the consumer's own share.
4. Member pages: ``--requests`` GET .../segments/{id}/members?limit=100 at random cursor
   positions of a segment with ~40 % of all customers.
5. Preview counts: ``--requests`` POST .../segments/preview with five different rules.

Latencies are client-side wall times on the same 2-core machine as the server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from relacja_contracts import CloudEvent, to_kafka_headers
from relacja_contracts.events import OrderPlacedV1
from relacja_messaging.kafka import producer_options
from relacja_servicekit.pagination import encode_cursor

from ._stack import bench_stack, load_average, median, percentile

SEGMENTS: dict[str, dict[str, Any]] = {
    "bench-high-value": {
        "and": [{"field": "abc_class", "op": "in", "value": ["A", "B"]}, {"consent": "email_marketing"}]
    },
    "bench-win-back": {
        "and": [
            {"field": "rfm_segment", "op": "in", "value": ["at_risk", "cannot_lose_them", "hibernating"]},
            {"not": {"tag": "do-not-contact"}},
        ]
    },
    "bench-broad": {"or": [{"field": "purchases", "op": "gte", "value": 2}, {"tag": "vip"}]},
}

PREVIEWS: list[dict[str, Any]] = [
    {"field": "net_revenue", "op": "gte", "value": "1000"},
    {"and": [{"field": "rfm_segment", "op": "eq", "value": "champions"}, {"consent": "email_marketing"}]},
    {"or": [{"tag": "vip"}, {"field": "quadrant", "op": "eq", "value": "true_friends"}]},
    {"and": [{"field": "recency_days", "op": "gt", "value": 365}, {"field": "purchases", "op": "gte", "value": 3}]},
    {"not": {"field": "abc_class", "op": "eq", "value": "C"}},
]


def stats(label: str, values_ms: list[float]) -> None:
    print(
        f"{label}: n={len(values_ms)} p50={median(values_ms):.1f} ms p95={percentile(values_ms, 95):.1f} ms "
        f"p99={percentile(values_ms, 99):.1f} ms max={max(values_ms):.1f} ms  ({load_average()})",
        flush=True,
    )


async def load(dsn: str, customers: int, orders: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        t0 = time.perf_counter()
        await conn.execute("DROP INDEX IF EXISTS ix_seg_orders_customer")
        await conn.execute("ALTER TABLE seg_orders DROP CONSTRAINT IF EXISTS seg_orders_pkey")
        await conn.execute(f"""
            CREATE UNLOGGED TABLE bench_customers AS
            SELECT n, gen_random_uuid() AS customer_id FROM generate_series(0, {customers - 1}) AS n""")
        await conn.execute("CREATE UNIQUE INDEX ON bench_customers (n)")
        await conn.execute("""
            INSERT INTO customer_profiles (customer_id, kind, lifecycle_stage, registered_at, tags, consents)
            SELECT customer_id, CASE WHEN n % 10 = 0 THEN 'company' ELSE 'person' END, 'customer',
                   now() - (random() * 1500) * interval '1 day',
                   CASE WHEN n % 20 = 0 THEN ARRAY['vip'] WHEN n % 33 = 0 THEN ARRAY['do-not-contact'] ELSE '{}' END,
                   CASE WHEN n % 3 = 0 THEN '{}'::text[] ELSE ARRAY['email_marketing'] END
            FROM bench_customers""")
        print(f"  customers loaded in {time.perf_counter() - t0:.0f} s", flush=True)
        # Every customer one order; the rest skewed towards low n (u^8).
        await conn.execute(f"""
            INSERT INTO seg_orders (order_id, customer_id, status, placed_at, currency, gross_amount, net_amount, margin, occurred_at)
            SELECT gen_random_uuid(), c.customer_id, o.status, o.placed_at, 'PLN', o.gross,
                   CASE WHEN o.status = 'cancelled' THEN 0 ELSE o.gross - o.returned END,
                   CASE WHEN o.unknown_cost THEN NULL WHEN o.status = 'cancelled' THEN 0
                        ELSE round((o.gross - o.returned) * o.margin_rate, 2) END,
                   o.placed_at
            FROM (
                SELECT CASE WHEN i < {customers} THEN i ELSE floor(power(random(), 8) * {customers})::int END AS n,
                       now() - (random() * 1095) * interval '1 day' AS placed_at,
                       round((10 + random() * 490)::numeric, 2) AS gross,
                       random() AS r1, random() AS r2, random() < 0.1 AS unknown_cost, (0.1 + random() * 0.3)::numeric AS margin_rate
                FROM generate_series(0, {orders - 1}) AS i
            ) AS g
            CROSS JOIN LATERAL (SELECT CASE WHEN g.r1 < 0.03 THEN 'cancelled' ELSE 'delivered' END AS status,
                                       g.placed_at, g.gross, g.unknown_cost, g.margin_rate,
                                       CASE WHEN g.r1 >= 0.03 AND g.r2 < 0.05 THEN round(g.gross * 0.3, 2) ELSE 0 END AS returned) AS o
            JOIN bench_customers AS c ON c.n = g.n""")
        print(f"  orders loaded in {time.perf_counter() - t0:.0f} s", flush=True)
        await conn.execute("ALTER TABLE seg_orders ADD PRIMARY KEY (order_id)")
        await conn.execute("CREATE INDEX ix_seg_orders_customer ON seg_orders (customer_id)")
        print(f"  indexes built in {time.perf_counter() - t0:.0f} s", flush=True)
    finally:
        await conn.close()


async def rebuild(url: str) -> None:
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from relacja_segmentation.app.projection import rebuild_order_aggregates

    engine = create_async_engine(url)
    try:
        async with async_sessionmaker(engine)() as session, session.begin():
            await rebuild_order_aggregates(session, "PLN")
    finally:
        await engine.dispose()


async def main(args: argparse.Namespace) -> None:
    os.environ["RELACJA_SEGMENTATION_RECOMPUTE_INTERVAL_SECONDS"] = "0"
    os.environ["RELACJA_SEGMENTATION_RUN_RELAY"] = "false"
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores; {load_average()}", flush=True)
    async with bench_stack(services=["segmentation", "orders"]) as stack:
        url = stack.database_url("segmentation")
        dsn = url.replace("+asyncpg", "")
        print(f"load: {args.customers:,} customers, {args.orders:,} orders", flush=True)
        t0 = time.perf_counter()
        await load(dsn, args.customers, args.orders)
        await rebuild(url)
        conn = await asyncpg.connect(dsn)
        await conn.execute("VACUUM ANALYZE")
        print(f"  aggregates and VACUUM ANALYZE done at {time.perf_counter() - t0:.0f} s", flush=True)
        api = httpx.AsyncClient(base_url=stack.service_url("segmentation"), timeout=600)
        segment_ids = {}
        for name, rule in SEGMENTS.items():
            response = await api.post("/api/v1/segmentation/segments", json={"name": name, "rule": rule})
            response.raise_for_status()
            segment_ids[name] = response.json()["id"]

        print("full recomputation:", flush=True)
        today = datetime.now(UTC).date()
        for label, body in (
            ("first scoring (everybody new)", {}),
            ("rerun, nothing changed", {}),
            ("rerun 30 days later", {"reference_date": date.fromordinal(today.toordinal() + 30).isoformat()}),
        ):
            started = time.perf_counter()
            response = await api.post("/api/v1/segmentation/recomputations", json=body)
            response.raise_for_status()
            took = time.perf_counter() - started
            result = response.json()
            print(
                f"  {label}: {took:.1f} s (server {result['duration_ms'] / 1000:.1f} s), {result['customers_scored']:,} scored, "
                f"changes {result['changes']}, segments {result['segments_refreshed']}  ({load_average()})",
                flush=True,
            )
        sizes = [
            f"{name}={(await api.get(f'/api/v1/segmentation/segments/{sid}')).json()['members']:,}"
            for name, sid in segment_ids.items()
        ]
        print("  segment sizes: " + ", ".join(sizes), flush=True)

        # Live order events.
        ids = [
            r["customer_id"]
            for r in await conn.fetch(
                "SELECT customer_id FROM bench_customers WHERE n = ANY($1::int[])",
                random.sample(range(args.customers), args.live_events),
            )
        ]
        producer = AIOKafkaProducer(**producer_options(stack.bootstrap_servers))
        await producer.start()
        latencies = []
        try:
            for warm in range(10):  # the consumer's first fetches and the connection pool
                await publish_order(producer, ids[warm % len(ids)])
            await asyncio.sleep(3)
            for customer_id in ids:
                order_id = await publish_order(producer, customer_id)
                sent = time.perf_counter()
                await applied(conn, order_id)
                latencies.append((time.perf_counter() - sent) * 1000)
        finally:
            await producer.stop()
        stats("live order event, broker → applied", latencies)
        stats("live order, orders-service commit → applied", await live_orders_from_commit(stack, conn, ids))

        # Member pages.
        broad = segment_ids["bench-broad"]
        times = []
        for i in range(args.requests + 20):
            cursor = encode_cursor([uuid.UUID(int=random.getrandbits(128))], "customer_id")
            started = time.perf_counter()
            response = await api.get(
                f"/api/v1/segmentation/segments/{broad}/members", params={"limit": 100, "cursor": cursor}
            )
            response.raise_for_status()
            if i >= 20:
                times.append((time.perf_counter() - started) * 1000)
        stats("member page (limit 100)", times)

        times = []
        for i in range(args.requests // 3 + 5):
            rule = PREVIEWS[i % len(PREVIEWS)]
            started = time.perf_counter()
            response = await api.post("/api/v1/segmentation/segments/preview", json={"rule": rule})
            response.raise_for_status()
            if i >= 5:
                times.append((time.perf_counter() - started) * 1000)
        stats("preview count", times)
        await api.aclose()
        await conn.close()


async def applied(conn: asyncpg.Connection, order_id: uuid.UUID | str) -> None:
    while not await conn.fetchval("SELECT 1 FROM seg_orders WHERE order_id = $1::uuid", str(order_id)):
        await asyncio.sleep(0.002)


async def live_orders_from_commit(stack, seg_conn: asyncpg.Connection, customer_ids: list[uuid.UUID]) -> list[float]:
    """Orders placed in the orders service, one at a time: its 201 → applied in segmentation."""
    orders_db = await asyncpg.connect(stack.database_url("orders").replace("+asyncpg", ""))
    try:
        await orders_db.copy_records_to_table(
            "known_customers",
            columns=["customer_id", "external_id", "state"],
            records=[(cid, f"bench-live-{n}", "active") for n, cid in enumerate(customer_ids)],
        )
    finally:
        await orders_db.close()
    latencies = []
    async with httpx.AsyncClient(base_url=stack.service_url("orders"), timeout=30) as orders:
        product = {
            "sku": "BENCH-LIVE",
            "name": "Live",
            "category": "bench",
            "list_price": "123.45",
            "unit_cost": "80.00",
            "tax_rate": "0.23",
            "currency": "PLN",
        }
        (await orders.post("/api/v1/products", json=product)).raise_for_status()
        for n, customer_id in enumerate([*customer_ids[:10], *customer_ids]):  # the first 10: warm-up
            body = {
                "customer_id": str(customer_id),
                "channel": "web",
                "currency": "PLN",
                "lines": [{"sku": "BENCH-LIVE", "quantity": 1}],
            }
            response = await orders.post("/api/v1/orders", json=body)
            response.raise_for_status()
            committed = time.perf_counter()
            await applied(seg_conn, response.json()["id"])
            if n >= 10:
                latencies.append((time.perf_counter() - committed) * 1000)
    return latencies


async def publish_order(producer: AIOKafkaProducer, customer_id: uuid.UUID) -> uuid.UUID:
    now = datetime.now(UTC)
    gross = Decimal("123.45")
    payload = OrderPlacedV1(
        customer_id=customer_id,
        order_id=uuid.uuid4(),
        order_number="B-1",
        status="placed",
        channel="web",
        placed_at=now,
        currency="PLN",
        gross_amount=gross,
        tax_amount=Decimal("28.39"),
        total_amount=gross + Decimal("28.39"),
        returned_amount=Decimal(0),
        refunded_amount=Decimal(0),
        net_amount=gross,
        cost_amount=Decimal("80.00"),
        margin=gross - Decimal("80.00"),
        occurred_at=now,
    )
    event = CloudEvent.for_payload(payload, source="/relacja/bench")
    await producer.send_and_wait(
        payload.topic.name,
        value=payload.model_dump_json().encode(),
        key=event.subject.encode(),
        headers=to_kafka_headers(event),
    )
    return payload.order_id


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--live-events", type=int, default=300)
    parser.add_argument("--requests", type=int, default=300)
    asyncio.run(main(parser.parse_args()))
