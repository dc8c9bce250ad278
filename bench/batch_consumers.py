"""Per-consumer apply rate of an import's backlog: the batch path against one event at a time.

    make bench-batch-consumers [ARGS="--customers 20000 --orders 100000 --baseline 5000"]

What a consumer faces after a history import (issue #18): ``--customers`` CustomerRegisteredV1
(imported; a fifth of them leads) and ``--orders`` OrderPlacedV1 of those customers. For each
consumer of customers, tickets, orders, loyalty, sales and sharing, the events it handles
are handed to its own ``EventConsumer.process_batch`` — the code the running consumer
uses: inbox rows, runs of batch handlers, one transaction — in fetches of 500 records (the
consumers' ``max_poll_records``), on the service's migrated database of the bench stack's
PostgreSQL. No broker in the loop: the figure is what the consumer itself can apply
(fetching from a local broker is not the limit at these rates).

Two passes per consumer, each under a fresh consumer group (empty inbox):

    one-by-one the same handlers one event at a time in the same fetch transaction — the
               path before #18 (``--baseline`` events, a slice with the same mix: it is
               slow); first, so it finds the state the backlog found
    batch      the handlers as registered (``on_batch`` runs in one call), every event

Reported per pass: events/s, and CPU per event of this process (the consumer's Python)
and of PostgreSQL. The sharing consumer gets one active agreement listing both event
types (a partner to feed). The customers consumer's customers exist (imported as
``prospect`` / ``lead``, so the first order moves each one). ``--profile NAME`` prints a
cProfile summary of NAME's batch pass.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from relacja_contracts import CloudEvent, EventPayload, to_kafka_headers
from relacja_contracts.events import CustomerRegisteredV1, OrderPlacedV1
from relacja_contracts.registry import EVENT_TYPES
from relacja_devstack import Stack
from relacja_messaging import EventConsumer, EventHandlers

from ._stack import bench_config, cpu_seconds, load_average

FETCH = 500  # the consumers' max_poll_records


@dataclass(frozen=True)
class Target:
    service: str
    group: str
    handlers: Callable[[], EventHandlers]


def _handlers(module: str, name: str = "handlers") -> Callable[[], EventHandlers]:
    def load() -> EventHandlers:
        imported = __import__(module, fromlist=[name])
        handlers: EventHandlers = getattr(imported, name)
        return handlers

    return load


TARGETS = [
    Target("customers", "customers.lifecycle", _handlers("relacja_customers.consumers")),
    Target("tickets", "tickets.events", _handlers("relacja_tickets.consumers")),
    Target("orders", "orders.customers", _handlers("relacja_orders.consumers")),
    Target("loyalty", "loyalty.projection", _handlers("relacja_loyalty.consumers")),
    Target("sales", "sales.projection", _handlers("relacja_sales.consumers")),
    Target("sharing", "sharing.fanout", _handlers("relacja_sharing.consumers")),
]


def one_by_one(handlers: EventHandlers) -> EventHandlers:
    """The same handlers, each event on its own (the batch handlers' one-event form)."""
    single = EventHandlers()
    for event_type in EVENT_TYPES:
        registration = handlers.get(event_type)
        if registration is not None:
            single.on(registration.model)(registration.handler)
    return single


def history(customers: int, orders: int) -> list[tuple[CloudEvent, EventPayload]]:
    """An import's events in the order a consumer of both topics meets them: customers first."""
    rng = random.Random(18)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    people = [uuid.uuid4() for _ in range(customers)]
    events: list[EventPayload] = [
        CustomerRegisteredV1(
            customer_id=cid,
            kind="person",
            display_name=f"Klient {n}",
            email=f"k{n}@example.com",
            lifecycle_stage="lead" if n % 5 == 0 else "prospect",
            registered_at=start,
            external_id=f"ext-{n}",
            imported=True,
        )
        for n, cid in enumerate(people)
    ]
    for n in range(orders):
        placed = start + timedelta(minutes=n)
        events.append(
            OrderPlacedV1.model_validate(
                {
                    "customer_id": rng.choice(people),
                    "order_id": uuid.uuid4(),
                    "order_number": f"H-{n}",
                    "status": "placed",
                    "channel": "web",
                    "placed_at": placed,
                    "currency": "PLN",
                    "gross_amount": "100.00",
                    "tax_amount": "23.00",
                    "total_amount": "123.00",
                    "returned_amount": "0.00",
                    "refunded_amount": "0.00",
                    "net_amount": "100.00",
                    "cost_amount": None,
                    "margin": None,
                    "imported": True,
                    "occurred_at": placed,
                }
            )
        )
    return [(CloudEvent.for_payload(p, source="/relacja/bench"), p) for p in events]


def records(events: Sequence[tuple[CloudEvent, EventPayload]]) -> list[ConsumerRecord]:
    return [
        ConsumerRecord(
            topic=payload.topic.name,
            partition=0,
            offset=offset,
            timestamp=0,
            timestamp_type=0,
            key=event.subject.encode(),
            value=payload.model_dump_json().encode(),
            checksum=None,
            serialized_key_size=-1,
            serialized_value_size=-1,
            headers=to_kafka_headers(event),
        )
        for offset, (event, payload) in enumerate(events)
    ]


async def seed(stack: Stack, events: Sequence[tuple[CloudEvent, EventPayload]]) -> None:
    """What the consumers find before the backlog: the imported customers in the customers
    service, and one partner with an agreement in sharing."""
    registered = [p for _, p in events if isinstance(p, CustomerRegisteredV1)]
    conn = await asyncpg.connect(stack.database_url("customers").replace("+asyncpg", ""))
    try:
        await conn.copy_records_to_table(
            "customers",
            records=[(p.customer_id, p.kind, p.display_name, p.lifecycle_stage) for p in registered],
            columns=["id", "kind", "display_name", "lifecycle_stage"],
        )
    finally:
        await conn.close()
    conn = await asyncpg.connect(stack.database_url("sharing").replace("+asyncpg", ""))
    try:
        partner = uuid.uuid4()
        await conn.execute(
            "INSERT INTO sharing_partners (id, legal_name, status, pseudonym_ipad, pseudonym_opad, version) "
            "VALUES ($1, 'Bench S.A.', 'active', $2, $3, 1)",
            partner,
            bytes(64),
            bytes(64),
        )
        allowed = {CustomerRegisteredV1.event_type: ["display_name"], OrderPlacedV1.event_type: ["order_number"]}
        await conn.execute(
            "INSERT INTO sharing_agreements (id, partner_id, name, status, version, purposes, direction, legal_basis,"
            " identifier, allowed_fields, valid_from, min_group_size) VALUES ($1, $2, 'bench', 'active', 1,"
            " '[\"x\"]', 'outbound', 'contract', 'pseudonym', $3::jsonb, now() - interval '1 day', 2)",
            uuid.uuid4(),
            partner,
            json.dumps(allowed),
        )
    finally:
        await conn.close()


async def apply(
    stack: Stack, target: Target, handlers: EventHandlers, batch: list[ConsumerRecord], group: str
) -> tuple[int, float, float, float]:
    """(events, seconds, CPU s of this process, CPU s of PostgreSQL) to apply ``batch`` in fetches."""
    engine = create_async_engine(stack.database_url(target.service), pool_size=2)
    consumer = EventConsumer(group, handlers, async_sessionmaker(engine, expire_on_commit=False), "unused:0")
    handled = [r for r in batch if handlers.get(dict(r.headers)["ce_type"].decode()) is not None]
    before = cpu_seconds(stack.config.state_dir)
    started = time.perf_counter()
    for offset in range(0, len(batch), FETCH):
        await consumer.process_batch(batch[offset : offset + FETCH])
    elapsed = time.perf_counter() - started
    after = cpu_seconds(stack.config.state_dir)
    await engine.dispose()
    own = after["bench (this script)"] - before["bench (this script)"]
    return len(handled), elapsed, own, after["postgres"] - before["postgres"]


def line(label: str, figures: tuple[int, float, float, float]) -> str:
    events, seconds, own, pg = figures
    rate = events / seconds if seconds else 0.0
    per = 1000 / max(events, 1)
    return (
        f"  {label:<11} {events:>7} events in {seconds:7.1f} s = {rate:8.0f} events/s"
        f"   CPU/event: consumer {own * per:.3f} ms, PostgreSQL {pg * per:.3f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=5_000, help="events of the one-by-one pass (0: none)")
    parser.add_argument("--only", nargs="*", default=[t.service for t in TARGETS], help="services to measure")
    parser.add_argument("--slot", type=int, default=0, help="moves the stack's ports by 100 × slot (bench_config)")
    parser.add_argument("--profile", default=None, help="a service whose batch pass is profiled (cProfile)")
    args = parser.parse_args()

    events = history(args.customers, args.orders)
    batch = records(events)
    # The baseline takes a slice with the same mix: every k-th customer's registration and orders.
    step = max(1, len(batch) // args.baseline) if args.baseline else 0
    baseline = batch[::step][: args.baseline] if step else []
    stack = Stack(bench_config([t.service for t in TARGETS], slot=args.slot))
    await stack.start_infrastructure(fresh=True)
    try:
        await stack._prepare_databases()  # the migrations only: no service runs in this benchmark
        await seed(stack, events)
        print(f"batch consumers: {args.customers} customers, {args.orders} orders; {load_average()}")
        for target in TARGETS:
            if target.service not in args.only:
                continue
            handlers = target.handlers()
            print(f"{target.group}:")
            if baseline:  # first: on the state before the backlog, as the consumer found it before #18
                group = f"{target.group}.bench-single-{uuid.uuid4().hex[:6]}"
                print(line("one-by-one", await apply(stack, target, one_by_one(handlers), baseline, group)))
            profiler = cProfile.Profile() if args.profile == target.service else None
            if profiler:
                profiler.enable()
            figures = await apply(stack, target, handlers, batch, f"{target.group}.bench-{uuid.uuid4().hex[:6]}")
            if profiler:
                profiler.disable()
            print(line("batch", figures))
            if profiler:
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
                print(out.getvalue())
        print(load_average())
    finally:
        await stack.stop()


if __name__ == "__main__":
    asyncio.run(main())
