"""The fault scenarios of issue 20, each under the steady load and judged by the same verdict.

    make test-faults      every scenario (and the strict timing figures) → docs/reliability.md
    make test-faults-ci   the bounded subset (marker ``faults_ci``) that .ci/run runs

The scenarios that found bugs run first, the nine kill -9 ones last. Each scenario: the load (``load.py``) starts, runs ``BEFORE`` seconds, the fault happens,
the load goes on ``AFTER`` seconds and stops; then the verdict (``verdict.py``): no accepted
write lost, no effect doubled, every event applied by every consumer, every outbox
published, every accepted order pushed to the partner's webhook, segmentation's projection
equal to its rebuild by replay — within ``BOUND`` seconds, the recovery time.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from relacja_devstack import Stack
from relacja_messaging.kafka import producer_options

from .load import LoadMix, SteadyLoad
from .verdict import Verdict, judge

BEFORE, AFTER, BOUND = 8.0, 10.0, 240.0
MIX = LoadMix(orders=8, customer_changes=1, ticket_updates=1, feed_reads=1)
# make test-faults sets it: the figures (p99 ≤ 100 ms) are asserted strictly there;
# the bounded CI run on a loaded machine keeps a generous bound and reports the figure.
STRICT = os.environ.get("RELACJA_FAULTS_STRICT") == "1"
KILLED = ["orders", "customers", "segmentation", "tickets", "churn", "sharing", "loyalty", "recommendations", "sales"]

Fault = Callable[[Stack, Verdict], Awaitable[None]]


async def scenario(stack: Stack, verdicts: list[Verdict], name: str, fault: Fault, *, after: float = AFTER) -> Verdict:
    since = datetime.now(UTC)
    figures = Verdict(name)
    async with SteadyLoad(stack, MIX) as load:
        load.start()
        await asyncio.sleep(BEFORE)
        started = time.monotonic()
        await fault(stack, figures)
        ended = time.monotonic()
        figures.figures.setdefault("fault s", round(ended - started, 1))
        await asyncio.sleep(after)
        await load.stop()
        verdict = await judge(stack, load, name, since=since, fault_ended=ended, bound=BOUND)
    verdict.figures = figures.figures | verdict.figures
    verdict.details = figures.details + verdict.details
    verdicts.append(verdict)
    assert verdict.passed, verdict.explain()
    return verdict


def kill_and_restart(service: str) -> Fault:
    async def fault(stack: Stack, v: Verdict) -> None:
        await stack.kill_service(service)
        await asyncio.sleep(1.0)
        began = time.monotonic()
        await stack.start_service(service)
        v.figures["restart to ready s"] = round(time.monotonic() - began, 1)

    return fault


async def test_postgresql_restarted_under_load(stack: Stack, verdicts: list[Verdict]) -> None:
    async def fault(stack: Stack, v: Verdict) -> None:
        await stack.restart_postgres(down_seconds=2.0)

    await scenario(stack, verdicts, "PostgreSQL restarted (2 s down)", fault)


# Its first run found events written while the broker was down never applied by seven consumers:
# their fetch positions belonged to the lost log (fixed in relacja_messaging.consumer), and relays
# stuck on partitions gone after the broker re-created topics (fixed in relacja_messaging.relay);
# tests on the real broker: tests/integration/test_broker_faults.py. Not in the CI subset yet: its
# last run had every count 0 but the rebuild by replay missed 1 event (docs/reliability.md).
async def test_broker_restarted_under_load_with_its_log_lost(stack: Stack, verdicts: list[Verdict]) -> None:
    async def fault(stack: Stack, v: Verdict) -> None:
        await stack.stop_broker()
        await asyncio.sleep(2.0)
        await stack.start_broker()

    await scenario(stack, verdicts, "broker restarted, log lost (replay)", fault)


# Its first run left 61 orders outbox rows unpublished (the relay stuck on partitions gone after the
# broker scenario before it; relacja_messaging.relay; tests/integration/test_broker_faults.py).
# Back in the CI subset: it passed after the fix (recovery 51.7 s on the loaded machine).
@pytest.mark.faults_ci
async def test_two_seconds_of_blackhole_between_orders_and_the_broker(stack: Stack, verdicts: list[Verdict]) -> None:
    async def fault(stack: Stack, v: Verdict) -> None:
        link = stack.proxy("orders", "broker")
        v.figures["orders' broker connections"] = link.connections
        link.blackhole()
        await asyncio.sleep(2.0)
        link.heal()

    await scenario(stack, verdicts, "2 s blackhole orders ↔ broker", fault)


async def test_200_ms_latency_on_the_orders_database_link_for_60_s(stack: Stack, verdicts: list[Verdict]) -> None:
    async def fault(stack: Stack, v: Verdict) -> None:
        link = stack.proxy("orders", "postgres")
        v.figures["orders' database connections"] = link.connections
        link.latency(0.2)
        await asyncio.sleep(60.0)
        link.clear()

    await scenario(stack, verdicts, "200 ms latency orders ↔ PostgreSQL, 60 s", fault)


async def segmentation_lag(stack: Stack) -> int:
    """Order events (of the orders outbox) segmentation has not applied yet."""
    orders = await asyncpg.connect(stack.database_url("orders").replace("+asyncpg", ""))
    segmentation = await asyncpg.connect(stack.database_url("segmentation").replace("+asyncpg", ""))
    try:
        recent = await orders.fetch(
            "SELECT event_id::text FROM outbox_events WHERE event_type LIKE 'relacja.orders.order.%'"
            " AND created_at > now() - interval '10 minutes'"
        )
        ids = [r[0] for r in recent]
        applied = await segmentation.fetchval(
            "SELECT count(*) FROM inbox_events WHERE consumer = 'segmentation.projection' AND event_id = ANY($1)",
            ids,
        )
    finally:
        await orders.close()
        await segmentation.close()
    return len(ids) - int(applied)


async def test_a_consumer_slowed_to_10_percent_for_60_s(stack: Stack, verdicts: list[Verdict]) -> None:
    async def fault(stack: Stack, v: Verdict) -> None:
        # segmentation runs 0.1 s of every second (SIGCONT/SIGSTOP): 10 % of its speed.
        peak = 0
        try:
            for second in range(60):
                stack.pause_service("segmentation", paused=False)
                await asyncio.sleep(0.1)
                stack.pause_service("segmentation", paused=True)
                await asyncio.sleep(0.9)
                if second % 10 == 9:
                    peak = max(peak, await segmentation_lag(stack))
        finally:
            stack.pause_service("segmentation", paused=False)
        v.figures["peak lag (events)"] = peak
        began = time.monotonic()
        while await segmentation_lag(stack) > 0 and time.monotonic() - began < BOUND:
            await asyncio.sleep(1.0)
        v.figures["drained in s"] = round(time.monotonic() - began, 1)
        assert peak > 0, "the slowed consumer never lagged: the fault did not bite"

    await scenario(stack, verdicts, "segmentation consumer at 10 % for 60 s", fault)


@pytest.mark.faults_ci
async def test_a_poison_event_in_the_middle_of_the_stream(stack: Stack, verdicts: list[Verdict]) -> None:
    poison = str(uuid.uuid4())

    async def fault(stack: Stack, v: Verdict) -> None:
        orders = await asyncpg.connect(stack.database_url("orders").replace("+asyncpg", ""))
        try:
            row = await orders.fetchrow(
                "SELECT topic, key, headers FROM outbox_events WHERE event_type = 'relacja.orders.order.placed.v1'"
                " ORDER BY id DESC LIMIT 1"
            )
        finally:
            await orders.close()
        assert row is not None, "no order was placed before the poison event"
        headers = json.loads(row["headers"]) if isinstance(row["headers"], str) else row["headers"]
        # A real order.placed envelope with a payload no handler can read.
        kafka_headers = [(n, (poison if n == "ce_id" else value).encode()) for n, value in headers]
        producer = AIOKafkaProducer(**producer_options(stack.bootstrap_servers))
        await producer.start()
        try:
            await producer.send_and_wait(
                row["topic"], value=b'{"order_id": "not-a-uuid"}', key=row["key"].encode(), headers=kafka_headers
            )
        finally:
            await producer.stop()

    await scenario(stack, verdicts, "poison event mid-stream", fault)
    outcomes: dict[str, str] = {}
    for spec in stack.config.services:
        if not spec.database:
            continue
        db = await asyncpg.connect(stack.database_url(spec.name).replace("+asyncpg", ""))
        try:
            for r in await db.fetch("SELECT consumer, outcome FROM inbox_events WHERE event_id = $1", poison):
                outcomes[r["consumer"]] = r["outcome"]
        finally:
            await db.close()
    assert outcomes and set(outcomes.values()) == {"dead_lettered"}, outcomes
    verdicts[-1].figures["dead-lettered by"] = len(outcomes)


@pytest.mark.faults_ci
async def test_the_gateway_answers_503_fast_for_a_stopped_service_and_the_rest_works(
    stack: Stack, verdicts: list[Verdict]
) -> None:
    token = stack.token(["admin"])
    timings: list[float] = []

    async def fault(stack: Stack, v: Verdict) -> None:
        await stack.stop_service("recommendations")
        try:
            async with httpx.AsyncClient(
                base_url=stack.gateway_url, headers={"Authorization": f"Bearer {token}"}, timeout=10, trust_env=False
            ) as client:
                for _ in range(200):
                    started = time.perf_counter()
                    response = await client.get(f"/api/v1/recommendations/customers/{uuid.uuid4()}/recommendations")
                    timings.append(time.perf_counter() - started)
                    assert response.status_code == 503, response.text
                    assert int(response.headers["retry-after"]) >= 1
        finally:
            await stack.start_service("recommendations")
        ordered = sorted(timings)
        v.figures["503 p50 ms"] = round(ordered[len(ordered) // 2] * 1000, 1)
        v.figures["503 p99 ms"] = round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 1)

    verdict = await scenario(stack, verdicts, "recommendations stopped: gateway 503", fault)
    # Every other route kept working: no request of the load failed for a reason but a lost If-Match race.
    failed = {k: n for k, n in verdict.outcomes.items() if k.split(":")[1] not in ("200", "201", "412")}
    assert not failed, failed
    p99 = verdict.figures["503 p99 ms"]
    assert p99 <= (100 if STRICT else 1000), f"p99 of the 503 answers {p99} ms"


# Last: nine scenarios, each waiting for a service's restart (minutes on a loaded machine).
@pytest.mark.parametrize(
    "service", [pytest.param(s, marks=[pytest.mark.faults_ci] if s == "orders" else []) for s in KILLED]
)
async def test_kill_9_a_service_under_load_then_restart(stack: Stack, verdicts: list[Verdict], service: str) -> None:
    await scenario(stack, verdicts, f"kill -9 {service}, restart", kill_and_restart(service))
