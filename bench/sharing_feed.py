"""Sharing at scale: the fan-out of customer events into 10 active agreements, and the
partner feed's page (limit=500) over a large feed.

    python -m bench.sharing_feed [--events 10000] [--records 1000000] [--requests 300]

Targets (issue 13): fan-out 5,000 customer events/s into 10 active agreements, sustained;
feed page (limit=500) p95 ≤ 50 ms with 10,000,000 feed records.

Method. Its own stack (``bench_config(["sharing"], slot=6)``: PostgreSQL, the broker and
the sharing service only, on the bench ports + 600 + ``RELACJA_BENCH_PORT_OFFSET``, state
in ``.state/bench-sharing``, emptied at start and stopped at the end).

1. Fan-out, end to end through the real consumer: 10 active agreements of 10 partners
   (5 under consent, 5 under contract; each allows 4 fields of ``order.placed``), 2,000
   customers with a granted consent for every consent-based partner (applied before the
   clock starts). The clock runs from the first of ``--events`` ``OrderPlacedV1`` produced
   to ``relacja.orders`` (producing is much faster than consuming, so the two overlap only
   at the start) until ``--events`` × 10 feed records exist. Reported: events/s, feed
   records/s, and the CPU each part used meanwhile.
2. Feed page: ``--records`` feed records generated set-based in SQL (``generate_series``)
   over the same 10 agreements, then ``VACUUM ANALYZE``. ``--requests`` sequential
   ``GET /partner/v1/feeds/{agreement}/events?limit=500&after=<cursor>`` straight to the
   service (the gateway's own overhead is measured by bench-gateway), each after a cursor
   at a random position of a random agreement, after 30 warm-up requests. Client wall time,
   httpx on the same machine; each page also writes its 500 disclosure-log rows.
   The same pages are then timed in process (``app.feed.feed_page`` with a session: the
   query, the disclosure-log insert and the JSON text, no HTTP). ``EXPLAIN (ANALYZE,
   BUFFERS)`` of the page query is printed: an index range scan on ``(agreement_id,
   position)``, whose cost depends on the page size, not the table size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import random
import time
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from relacja_contracts import CloudEvent, EventPayload
from relacja_contracts.envelope import to_kafka_headers
from relacja_contracts.events import ConsentGrantedV1, OrderPlacedV1
from relacja_devstack import Stack
from relacja_devstack.config import REPO_ROOT
from relacja_messaging.kafka import producer_options
from relacja_servicekit.pagination import encode_cursor
from relacja_sharing.app.feed import feed_page
from relacja_sharing.tables import agreements as agreements_table
from relacja_sharing.tables import feed_records

from ._stack import bench_config, cpu_seconds, load_average, median, percentile

log = logging.getLogger("bench.sharing")

SLOT = 6
STATE_DIR = REPO_ROOT / ".state" / "bench-sharing"
AGREEMENTS, CUSTOMERS = 10, 2_000
FIELDS = ["order_number", "total_amount", "currency", "status"]


def _order(customer: uuid.UUID, n: int) -> OrderPlacedV1:
    at = datetime.now(UTC)
    return OrderPlacedV1.model_validate(
        {
            "customer_id": customer,
            "order_id": uuid.uuid4(),
            "order_number": f"B-{n}",
            "status": "placed",
            "channel": "web",
            "placed_at": at,
            "currency": "PLN",
            "gross_amount": "100.00",
            "tax_amount": "23.00",
            "total_amount": "123.00",
            "returned_amount": "0.00",
            "refunded_amount": "0.00",
            "net_amount": "100.00",
            "cost_amount": "40.00",
            "margin": "60.00",
            "occurred_at": at,
        }
    )


async def _send(producer: AIOKafkaProducer, payload: EventPayload) -> None:
    event = CloudEvent.for_payload(payload, source="/relacja/bench")
    await producer.send(
        payload.topic.name,
        value=payload.model_dump_json().encode(),
        key=event.subject.encode(),
        headers=to_kafka_headers(event),
    )


async def setup(api: httpx.AsyncClient) -> tuple[list[str], list[str]]:
    """Ten partners with one active agreement each: (partner ids, agreement ids)."""
    partners, agreements = [], []
    for i in range(AGREEMENTS):
        partner = (await api.post("/api/v1/sharing/partners", json={"legal_name": f"Bench partner {i}"})).json()
        created = (
            await api.post(
                "/api/v1/sharing/agreements",
                json={
                    "partner_id": partner["id"],
                    "name": "bench",
                    "purposes": ["delivery"],
                    "direction": "outbound",
                    "legal_basis": "consent" if i < AGREEMENTS // 2 else "contract",
                    "allowed_fields": {OrderPlacedV1.event_type: FIELDS},
                },
            )
        ).json()
        active = await api.post(f"/api/v1/sharing/agreements/{created['id']}/activate", headers={"If-Match": '"1"'})
        assert active.status_code == 200, active.text
        partners.append(partner["id"])
        agreements.append(created["id"])
    return partners, agreements


async def fan_out(stack: Stack, conn: asyncpg.Connection, partners: list[str], events: int) -> list[str]:
    customers = [uuid.uuid4() for _ in range(CUSTOMERS)]
    producer = AIOKafkaProducer(**producer_options(stack.bootstrap_servers))
    await producer.start()
    try:
        for customer in customers:
            for partner in partners[: AGREEMENTS // 2]:
                await _send(
                    producer,
                    ConsentGrantedV1(
                        customer_id=customer,
                        consent_id=uuid.uuid4(),
                        purpose="partner_sharing",
                        partner_id=partner,
                        partner_purpose="delivery",
                        source="bench",
                        occurred_at=datetime.now(UTC),
                    ),
                )
        await producer.flush()
        deadline = time.monotonic() + 600
        while await conn.fetchval("SELECT count(*) FROM sharing_consents") < CUSTOMERS * (AGREEMENTS // 2):
            assert time.monotonic() < deadline, "consents not applied"
            await asyncio.sleep(0.5)
        before_records = await conn.fetchval("SELECT count(*) FROM sharing_feed_records")
        log.info("producing %d order events", events)
        started_cpu = cpu_seconds(STATE_DIR)
        started = time.perf_counter()
        for n in range(events):
            await _send(producer, _order(customers[n % CUSTOMERS], n))
        await producer.flush()
    finally:
        await producer.stop()
    target = before_records + events * AGREEMENTS
    while (count := await conn.fetchval("SELECT count(*) FROM sharing_feed_records")) < target:
        assert time.perf_counter() - started < 1800, f"only {count - before_records} of {events * AGREEMENTS}"
        await asyncio.sleep(0.2)
    elapsed = time.perf_counter() - started
    used = cpu_seconds(STATE_DIR)
    cpu = ", ".join(f"{part} {used[part] - started_cpu.get(part, 0.0):.1f} s" for part in sorted(used))
    return [
        f"fan-out: {events} order events → {events * AGREEMENTS} feed records in {elapsed:.1f} s "
        f"(produce + consume overlapped): {events / elapsed:,.0f} events/s, {events * AGREEMENTS / elapsed:,.0f} "
        f"records/s",
        f"  CPU during the run: {cpu}",
    ]


_GENERATE = """
INSERT INTO sharing_feed_records (agreement_id, partner_id, customer_id, identifier, kind, record_id, event_type,
                                  agreement_version, purposes, fields, cloud_event)
SELECT a.id, a.partner_id, c.cid, 'pseudonym-' || (g % 100000), 'record', gen_random_uuid(),
       'relacja.orders.order.placed.v1', 2, '["delivery"]', '["currency", "order_number", "status", "total_amount"]',
       jsonb_build_object('specversion', '1.0', 'id', gen_random_uuid(), 'source',
                          '/relacja/sharing/agreements/' || a.id, 'type', 'relacja.orders.order.placed.v1',
                          'subject', 'pseudonym-' || (g % 100000), 'time', '2026-12-05T12:00:00Z',
                          'datacontenttype', 'application/json', 'agreementversion', 2,
                          'data', jsonb_build_object('order_number', 'B-' || g, 'total_amount', '123.00',
                                                     'currency', 'PLN', 'status', 'placed'))
  FROM generate_series($1::bigint, $2::bigint) AS g
  JOIN (SELECT id, partner_id, row_number() OVER (ORDER BY id) - 1 AS k FROM sharing_agreements) a
    ON a.k = g % 10
  CROSS JOIN LATERAL (SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g % 100000), 12, '0'))::uuid AS cid) c
"""


async def generate(conn: asyncpg.Connection, records: int) -> str:
    existing = await conn.fetchval("SELECT count(*) FROM sharing_feed_records")
    started = time.perf_counter()
    chunk = 500_000
    for low in range(1, max(records - existing, 0) + 1, chunk):
        await conn.execute(_GENERATE, low, min(low + chunk - 1, records - existing))
        log.info("generated %d feed records", min(low + chunk - 1, records - existing))
    await conn.execute("VACUUM ANALYZE sharing_feed_records")
    await conn.execute("CHECKPOINT")
    total = await conn.fetchval("SELECT count(*) FROM sharing_feed_records")
    size = await conn.fetchval("SELECT pg_size_pretty(pg_total_relation_size('sharing_feed_records'))")
    return f"feed: {total:,} records ({size} with indexes), generated in {time.perf_counter() - started:.0f} s"


async def pages(base_url: str, conn: asyncpg.Connection, partners: list[str], agreements: list[str], n: int) -> str:
    bounds: dict[str, tuple[int, int]] = {}
    for a in agreements:
        row = await conn.fetchrow(
            "SELECT min(position) AS lo, max(position) AS hi FROM sharing_feed_records WHERE agreement_id = $1",
            uuid.UUID(a),
        )
        assert row is not None
        bounds[a] = (row["lo"], row["hi"])
    rng = random.Random(13)
    samples: list[float] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        for i in range(30 + n):
            k = rng.randrange(AGREEMENTS)
            agreement, (lo, hi) = agreements[k], bounds[agreements[k]]
            # A cursor at a random position, at least a full page before the feed's end.
            after = encode_cursor([rng.randrange(lo, max(hi - 5_000, lo + 1))], f"feed:{agreement}")
            headers = {"X-Relacja-Principal-Kind": "partner", "X-Relacja-Partner-Id": partners[k]}
            started = time.perf_counter()
            response = await client.get(
                f"/partner/v1/feeds/{agreement}/events", params={"limit": 500, "after": after}, headers=headers
            )
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200 and len(response.json()["items"]) == 500, response.text[:300]
            if i >= 30:
                samples.append(elapsed)
    return (
        f"feed page limit=500 (random cursor)       n={len(samples):>5}  p50 {median(samples):6.2f} ms  "
        f"p95 {percentile(samples, 95):6.2f} ms  p99 {percentile(samples, 99):6.2f} ms  max {max(samples):7.2f} ms"
    )


async def in_process(database_url: str, agreements: list[str], n: int) -> str:
    """The same pages through ``app.feed.feed_page`` with a session, no HTTP: the database and the service code."""
    engine = create_async_engine(database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    rng = random.Random(17)
    samples: list[float] = []
    try:
        async with sessions() as session:
            rows = {
                a: (await session.execute(select(agreements_table).where(agreements_table.c.id == uuid.UUID(a)))).one()
                for a in agreements
            }
            hi = (await session.execute(select(func.max(feed_records.c.position)))).scalar_one()
        for i in range(30 + n):
            agreement = agreements[rng.randrange(AGREEMENTS)]
            after = encode_cursor([rng.randrange(1, max(hi - 10_000, 2))], f"feed:{agreement}")
            async with sessions() as session, session.begin():
                started = time.perf_counter()
                await feed_page(session, rows[agreement], after=after, limit=500)
                elapsed = (time.perf_counter() - started) * 1000
            if i >= 30:
                samples.append(elapsed)
    finally:
        await engine.dispose()
    return (
        f"feed page limit=500, in process (no HTTP) n={len(samples):>5}  p50 {median(samples):6.2f} ms  "
        f"p95 {percentile(samples, 95):6.2f} ms  p99 {percentile(samples, 99):6.2f} ms  max {max(samples):7.2f} ms"
    )


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    stack = Stack(bench_config(["sharing"], slot=SLOT, state_dir=STATE_DIR, ready_timeout=300.0))
    lines = [
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}; {load_average()} at start"
    ]
    await stack.start(fresh=True)
    try:
        conn = await asyncpg.connect(stack.database_url("sharing").replace("+asyncpg", ""))
        try:
            async with httpx.AsyncClient(base_url=stack.service_url("sharing"), timeout=60) as api:
                partners, agreements = await setup(api)
            lines += await fan_out(stack, conn, partners, args.events)
            lines.append(await generate(conn, args.records))
            plan = await conn.fetch(
                "EXPLAIN (ANALYZE, BUFFERS) SELECT position, cloud_event::text FROM sharing_feed_records "
                "WHERE agreement_id = $1 AND position > $2 ORDER BY agreement_id, position LIMIT 501",
                uuid.UUID(agreements[0]),
                args.records // 2,
            )
            lines.append("plan: " + " / ".join(r[0].strip() for r in plan))
            lines.append(await pages(stack.service_url("sharing"), conn, partners, agreements, args.requests))
            lines.append(await in_process(stack.database_url("sharing"), agreements, args.requests))
        finally:
            await conn.close()
    finally:
        await stack.stop()
    lines.append(f"{load_average()} at the end")
    print("\n".join(lines))
    (STATE_DIR / "result.json").write_text(json.dumps(lines, indent=1))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    asyncio.run(main(parser.parse_args()))
