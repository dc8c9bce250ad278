"""Webhook delivery: deliveries/s of the shared sender to a local receiver, and how soon a
cancelled customer (a consent withdrawal) stops reaching the receiver under that load.

    make bench-webhooks
    python -m bench.webhook_delivery [--messages 20000] [--endpoints 10] [--customers 2000]
                                     [--concurrency 50] [--workers 2] [--withdrawals 100]

Method. Only PostgreSQL (and the broker, unused) of the bench stack run (``_stack.py``); a
scratch database ``bench_webhooks`` gets the webhook tables (``create_webhook_tables``). The
receiver is a bare ASGI app under uvicorn (uvloop, httptools) in its own process
(``webhook_receiver_app.py``): 200 for every POST, recording the arrival time and the
CloudEvent ``subject``. ``--endpoints`` endpoints on it (plain http on loopback: the operator
switches the local stack uses), ``max_concurrency = --concurrency`` each, no rate limit.

1. ``--messages`` messages (a 600-byte CloudEvent each; ``subject`` = ordering key, one of
   ``--customers`` customers per endpoint, so per-customer ordering is in force) are queued in
   one transaction before any worker runs (queueing is not measured).
2. ``--workers`` worker processes each run one ``DeliveryWorker`` (max 500 in flight). Every
   attempt is signed with ``standardwebhooks``, goes through the SSRF-checking connection
   backend and is recorded (attempt row, message state) as in production.
3. While they run, ``--withdrawals`` times the benchmark cancels one customer at one endpoint
   (``cancel_open``, what the sharing trigger does for a tombstone) and notes the commit time.
4. Throughput = succeeded messages / (last ``delivered_at`` − first attempt). Stop latency of a
   withdrawal = the last arrival of that customer's messages at the receiver after the commit
   (0 when none arrived later); p50/p99/max over the withdrawals.

This measures the sender; in the sharing service a withdrawal also passes the fan-out
consumer (event → tombstone → the trigger's cancel), whose lag is the fan-out benchmark's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import random
import socket
import sys
import time
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from relacja_webhooks import (
    DeliveryWorker,
    NewMessage,
    UrlPolicy,
    WebhookSender,
    WorkerSettings,
    cancel_open,
    enqueue,
    register_endpoint,
    webhook_tables,
)
from relacja_webhooks.migrations import create_webhook_tables

from ._stack import bench_stack, load_average, percentile

DATABASE = "bench_webhooks"
TARGET = 1_000.0  # deliveries/s
STOP_TARGET = 5.0  # p99 seconds
TABLES = webhook_tables(MetaData(), prefix="bench_webhook")
LOCAL = UrlPolicy(allow_http=True, allow_loopback=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker_process(url: str, stop_after_idle: float) -> None:
    asyncio.run(_run_worker(url, stop_after_idle))


async def _run_worker(url: str, stop_after_idle: float) -> None:
    engine = create_async_engine(url, pool_size=5)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    sender = WebhookSender(LOCAL, max_connections=1000)
    worker = DeliveryWorker(
        sessions, TABLES, sender, settings=WorkerSettings(max_in_flight=500, claim_batch=500, poll_interval=0.05)
    )
    idle_since = time.monotonic()
    try:
        while True:
            if await worker.step() or worker.busy:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > stop_after_idle:
                break
    finally:
        await sender.aclose()
        await engine.dispose()


def body(key: str, seq: int) -> str:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "/relacja/sharing/agreements/bench",
            "type": "relacja.orders.order.placed.v1",
            "subject": key,
            "time": datetime.now(UTC).isoformat(),
            "datacontenttype": "application/json",
            "data": {
                "seq": seq,
                "total": "123.45",
                "currency": "EUR",
                "status": "placed",
                "lines": 3,
                "pad": "x" * 300,
            },
        }
    )


async def main(args: argparse.Namespace) -> None:
    async with bench_stack(services=()) as stack:
        admin = await asyncpg.connect(stack.postgres_dsn)
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
        await admin.close()
        url = stack.config.postgres_dsn(DATABASE).replace("postgresql://", "postgresql+asyncpg://")
        engine = create_async_engine(url)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with engine.begin() as conn:
            await conn.run_sync(lambda bind: create_webhook_tables(bind, TABLES))
        port = free_port()
        receiver = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "uvicorn", "bench.webhook_receiver_app:app", "--port", str(port),
            "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
        )  # fmt: skip
        try:
            await _wait_listening(port)
            await _measure(args, sessions, port, url)
        finally:
            receiver.terminate()
            await receiver.wait()
            await engine.dispose()


async def _wait_listening(port: int) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            with contextlib.suppress(httpx.TransportError):
                await client.get(f"http://127.0.0.1:{port}/stats")
                return
            await asyncio.sleep(0.05)
    raise TimeoutError("the receiver did not start")


async def _measure(args: argparse.Namespace, sessions: async_sessionmaker[AsyncSession], port: int, url: str) -> None:
    async with sessions() as session, session.begin():
        endpoints = [
            (await register_endpoint(session, TABLES, LOCAL, url=f"http://127.0.0.1:{port}/e{i}",
                                     max_concurrency=args.concurrency))[0]
            for i in range(args.endpoints)
        ]  # fmt: skip
    keys = [f"c{c}" for c in range(args.customers)]
    per = args.messages // args.endpoints
    messages = [
        NewMessage(endpoints[e], "relacja.orders.order.placed.v1", key, body(key, i))
        for e in range(args.endpoints)
        for i, key in enumerate(random.choices(keys, k=per))
    ]
    print(f"queueing {len(messages):,} messages to {args.endpoints} endpoints ...", flush=True)
    for start in range(0, len(messages), 5000):
        async with sessions() as session, session.begin():
            await enqueue(session, TABLES, messages[start : start + 5000])

    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_worker_process, args=(url, 3.0)) for _ in range(args.workers)]
    for w in workers:
        w.start()
    withdrawals = await _withdraw_while_running(sessions, endpoints, keys, args.withdrawals)
    for w in workers:
        w.join(600)

    async with sessions() as session:
        row = (
            await session.execute(
                text(
                    f"SELECT count(*) FILTER (WHERE m.status = 'succeeded'), "
                    f"count(*) FILTER (WHERE m.status = 'cancelled'), "
                    f"extract(epoch FROM max(m.delivered_at)), "
                    f"(SELECT extract(epoch FROM min(attempted_at)) FROM {TABLES.attempts.name}), "
                    f"(SELECT count(*) FROM {TABLES.attempts.name}) FROM {TABLES.messages.name} m"
                )
            )
        ).one()
        failures = (
            await session.execute(
                text(
                    f"SELECT coalesce(status_code::text, left(error, 80)) AS what, count(*) FROM {TABLES.attempts.name} "
                    "WHERE outcome <> 'succeeded' GROUP BY 1 ORDER BY 2 DESC LIMIT 5"
                )
            )
        ).all()
    succeeded, cancelled, last, first, attempts = int(row[0]), int(row[1]), float(row[2]), float(row[3]), int(row[4])
    async with httpx.AsyncClient() as client:
        arrivals = (await client.get(f"http://127.0.0.1:{port}/stats")).json()["arrivals"]
    last_arrival: dict[str, float] = {}
    for at, subject in arrivals:
        last_arrival[subject] = max(last_arrival.get(subject, 0.0), at)
    stops = [max(0.0, last_arrival.get(f"{path}|{key}", 0.0) - at) for path, key, at in withdrawals]
    rate = succeeded / (last - first)
    print(
        f"\nWebhook delivery, {succeeded:,} delivered ({cancelled:,} cancelled, {attempts:,} attempts), "
        f"{args.endpoints} endpoints x concurrency {args.concurrency}, {args.workers} worker process(es), "
        f"{len(arrivals):,} arrivals at the receiver ({load_average()}):"
    )
    print(
        f"  throughput {rate:8,.0f} deliveries/s  (target >= {TARGET:,.0f})  {'OK' if rate >= TARGET else 'BELOW TARGET'}"
    )
    for what, count in failures:
        print(f"  failed attempts: {count:,} × {what}")
    if stops:
        p99 = percentile(stops, 99)
        print(
            f"  withdrawal → last delivery of that customer: p50 {percentile(stops, 50):.3f} s, p99 {p99:.3f} s, "
            f"max {max(stops):.3f} s over {len(stops)} withdrawals (target p99 <= {STOP_TARGET:.0f} s)  "
            f"{'OK' if p99 <= STOP_TARGET else 'BELOW TARGET'}"
        )


async def _withdraw_while_running(
    sessions: async_sessionmaker[AsyncSession], endpoints: list[uuid.UUID], keys: list[str], count: int
) -> list[tuple[str, str, float]]:
    """Cancel ``count`` random (endpoint, customer) pairs, one every 20 ms once delivery runs;
    returns (receiver path, customer, commit time) of each."""
    await asyncio.sleep(1.0)  # the workers are delivering by now
    done: list[tuple[str, str, float]] = []
    for _ in range(count):
        index, key = random.randrange(len(endpoints)), random.choice(keys)
        async with sessions() as session, session.begin():
            await cancel_open(session, TABLES, [endpoints[index]], key)
        done.append((f"/e{index}", key, time.time()))
        await asyncio.sleep(0.02)
    return done


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--endpoints", type=int, default=10)
    parser.add_argument("--customers", type=int, default=2_000, help="ordering keys per endpoint")
    parser.add_argument("--concurrency", type=int, default=50, help="max_concurrency of each endpoint")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--withdrawals", type=int, default=100)
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
