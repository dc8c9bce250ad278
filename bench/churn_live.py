"""A live order event reflected in the customer's churn score: latency through the stack.

    make bench-churn   (runs bench.churn_models, then this)
    python -m bench.churn_live [--customers 5000] [--events 400] [--rate 20]

Method. The bench stack runs PostgreSQL, the broker and the churn service (its consumer
``churn.projection`` and run worker). Setup, not timed: order events of ``--customers``
customers (1–6 orders each over two years) are published to ``relacja.orders`` and
projected; a model run is fitted through ``POST /api/v1/churn/models`` and becomes the
active run. Then ``--events`` new ``OrderPlacedV1`` events, each for a different
existing customer, are published at ``--rate`` per second (open loop). The clock starts
just before the producer sends the event; it stops at the consumer's inbox
``processed_at`` for that event id — the commit of the transaction that stored the order
and the customer's new score under the active run (the script checks each score's
``scored_at`` is after the send). Target: p99 ≤ 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from relacja_contracts import CloudEvent, to_kafka_headers
from relacja_contracts.events import OrderPlacedV1
from relacja_messaging.kafka import producer_options

from ._stack import bench_stack, load_average, median, percentile

TARGET_P99_MS = 500.0


def order(customer: uuid.UUID, day: date, amount: Decimal) -> OrderPlacedV1:
    moment = datetime.combine(day, dtime(12), tzinfo=UTC)
    return OrderPlacedV1(
        customer_id=customer,
        order_id=uuid.uuid4(),
        order_number="B-1",
        status="placed",
        channel="web",
        placed_at=moment,
        currency="PLN",
        gross_amount=amount,
        tax_amount=Decimal(0),
        total_amount=amount,
        returned_amount=Decimal(0),
        refunded_amount=Decimal(0),
        net_amount=amount,
        cost_amount=None,
        margin=None,
        occurred_at=moment,
    )


async def send(producer: AIOKafkaProducer, payload: OrderPlacedV1, *, wait: bool) -> CloudEvent:
    event = CloudEvent.for_payload(payload, source="/relacja/bench")
    call = producer.send_and_wait if wait else producer.send
    await call(
        payload.topic.name,
        value=payload.model_dump_json().encode(),
        key=event.subject.encode(),
        headers=to_kafka_headers(event),
    )
    return event


async def main(args: argparse.Namespace) -> None:
    rng = random.Random(7)
    today = datetime.now(UTC).date()
    async with bench_stack(services=["churn"]) as stack:
        db = await asyncpg.connect(stack.database_url("churn").replace("+asyncpg", ""))
        producer = AIOKafkaProducer(**producer_options(stack.bootstrap_servers))
        await producer.start()
        api = httpx.AsyncClient(base_url=stack.service_url("churn"), trust_env=False, timeout=30)
        try:
            customers = [uuid.uuid4() for _ in range(args.customers)]
            n_orders = 0
            for customer in customers:
                first = today - timedelta(days=rng.randint(30, 730))
                for _ in range(rng.randint(1, 6)):
                    day = first + timedelta(days=rng.randint(0, (today - first).days - 1))
                    await send(producer, order(customer, day, Decimal(rng.randint(500, 20000)) / 100), wait=False)
                    n_orders += 1
            await producer.flush()
            print(f"setup: {n_orders} orders of {len(customers)} customers published")
            while await db.fetchval("SELECT count(*) FROM churn_orders") < n_orders:
                await asyncio.sleep(1)
            run = (await api.post("/api/v1/churn/models", json={"calibration_end": today.isoformat()})).json()
            while (card := (await api.get(f"/api/v1/churn/models/{run['id']}")).json())["status"] in (
                "pending",
                "running",
            ):
                await asyncio.sleep(0.5)
            print(f"setup: run {card['status']}, {card['n_customers']} customers, timings {card['timings']}")

            targets = rng.sample(customers, args.events)
            sent: dict[str, tuple[float, uuid.UUID]] = {}
            start = time.monotonic()
            for i, customer in enumerate(targets):
                delay = start + i / args.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                t0 = time.time()
                event = await send(producer, order(customer, today, Decimal("42.00")), wait=False)
                sent[event.id] = (t0, customer)
            await producer.flush()
            ids = list(sent)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                done = await db.fetchval("SELECT count(*) FROM inbox_events WHERE event_id = ANY($1::text[])", ids)
                if done == len(ids):
                    break
                await asyncio.sleep(0.5)
            rows = await db.fetch(
                "SELECT event_id, extract(epoch FROM processed_at)::float8 AS t FROM inbox_events WHERE event_id = ANY($1::text[])",
                ids,
            )
            latencies = sorted((row["t"] - sent[row["event_id"]][0]) * 1000 for row in rows)
            fresh = await db.fetchval(
                "SELECT count(*) FROM churn_scores s JOIN churn_model_runs r ON r.id = s.run_id AND r.active "
                "WHERE s.customer_id = ANY($1::uuid[]) AND s.last_purchase_on = $2",
                [c for _, c in sent.values()],
                today,
            )
            print(f"live: {len(latencies)}/{len(ids)} events applied, {fresh} scores show today's order")
            print(
                f"latency event sent → score committed: p50 {median(latencies):.1f} ms  p95 {percentile(latencies, 95):.1f} ms  "
                f"p99 {percentile(latencies, 99):.1f} ms  max {max(latencies):.1f} ms  (target p99 ≤ {TARGET_P99_MS:.0f} ms)"
            )
            print(f"load average {load_average()}")
        finally:
            await api.aclose()
            await producer.stop()
            await db.close()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--rate", type=float, default=20.0)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
