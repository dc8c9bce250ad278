"""Soak (issue 20, part 3): 30 minutes at 50 orders/s plus background traffic.

    source /work/wt/ports.sh 9      # (shared machine) the test profile on its own ports
    make soak                       # = python -m bench.soak [--minutes 30] [--orders 50] [--warmup 5]

Method. The whole stack of the ``test`` profile (its ports from the environment, its state in
``.state/soak``, fresh), then :class:`tests.faults.load.SteadyLoad` through the gateway, open
loop: ``--orders`` orders/s, 2 customer changes/s, 2 ticket updates/s, 1 partner feed read/s,
and a webhook delivery to a loopback receiver per placed order. Every ``--sample`` seconds:
RSS and open file descriptors of every process of the stack (PostgreSQL counted with all its
children), TCP connections of each process, PostgreSQL backends (``pg_stat_activity``), and
p50/p99 of the requests scheduled in that window. After ``--warmup`` minutes the first sample
is the baseline; the verdict is each process's last RSS within 10 % of it (and its maximum),
file descriptors and connections not growing, and the p99 of the last window vs the first.
The samples go to ``.state/soak/soak.json``; the summary is printed as markdown for
docs/benchmarks.md (§20, "Soak").
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any

import asyncpg
import psutil

from relacja_devstack import Stack, StackConfig
from relacja_devstack.config import REPO_ROOT
from tests.faults.load import LoadMix, SteadyLoad

from ._stack import load_average, percentile, stack_processes

MB = 1024 * 1024


def sample_processes(state_dir: Path) -> dict[str, dict[str, float]]:
    parts: dict[str, dict[str, float]] = {}
    for part, proc in stack_processes(state_dir):
        try:
            with proc.oneshot():
                rss, fds = proc.memory_info().rss, proc.num_fds()
            conns = len(proc.net_connections(kind="tcp"))
        except psutil.Error:
            continue
        entry = parts.setdefault(part, {"rss_mb": 0.0, "fds": 0, "tcp": 0})
        entry["rss_mb"] += rss / MB
        entry["fds"] += fds
        entry["tcp"] += conns
    return parts


async def pg_backends(stack: Stack) -> int:
    connection = await asyncpg.connect(stack.postgres_dsn)
    try:
        return int(
            await connection.fetchval("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
        )
    finally:
        await connection.close()


def window_latency(load: SteadyLoad, start: float, end: float) -> dict[str, float]:
    values = [lat for series in load.latencies.values() for at, lat in series if start <= at < end]
    orders = [lat for at, lat in load.latencies.get("place_order", []) if start <= at < end]
    if not values:
        return {}
    return {
        "requests": len(values),
        "p50_ms": percentile(values, 50) * 1000,
        "p99_ms": percentile(values, 99) * 1000,
        "orders_p99_ms": percentile(orders, 99) * 1000 if orders else 0.0,
    }


async def main(minutes: float, orders: float, warmup: float, sample: float) -> None:
    config = dataclasses.replace(
        StackConfig.for_profile("test"), state_dir=REPO_ROOT / ".state" / "soak", fresh=True, ready_timeout=600
    )
    samples: list[dict[str, Any]] = []
    async with Stack(config) as stack:
        async with SteadyLoad(
            stack, LoadMix(orders=orders, customer_changes=2, ticket_updates=2, feed_reads=1)
        ) as load:
            load.start()
            began = time.monotonic()
            window = began
            try:
                while time.monotonic() - began < minutes * 60:
                    await asyncio.sleep(sample)
                    now = time.monotonic()
                    entry = {
                        "minute": round((now - began) / 60, 2),
                        "load": os.getloadavg(),
                        "parts": sample_processes(config.state_dir),
                        "pg_backends": await pg_backends(stack),
                        "latency": window_latency(load, window, now),
                        "accepted": len(load.accepted),
                    }
                    window = now
                    samples.append(entry)
                    print(json.dumps(entry), flush=True)
            finally:
                await load.stop()
            outcomes = {f"{k}:{s}": n for (k, s), n in sorted(load.outcomes.items())}
            webhooks = len(load.webhook_order_numbers())
    (config.state_dir / "soak.json").write_text(json.dumps({"samples": samples, "outcomes": outcomes}, indent=1))
    report(samples, outcomes, webhooks, minutes, orders, warmup)


def report(
    samples: list[dict[str, Any]], outcomes: dict[str, int], webhooks: int, minutes: float, orders: float, warmup: float
) -> None:
    after = [s for s in samples if s["minute"] >= warmup]
    if not after:
        print("no sample after the warm-up")
        return
    base, last = after[0], after[-1]
    print(
        f"\nsoak: {minutes:.0f} min at {orders:.0f} orders/s + background, warm-up {warmup:.0f} min; {load_average()}"
    )
    print(f"outcomes: {outcomes}; webhook deliveries received: {webhooks}\n")
    print("| process | RSS after warm-up MB | RSS max MB | RSS end MB | change | fds start→end | TCP start→end |")
    print("|---|---|---|---|---|---|---|")
    for part in sorted(base["parts"]):
        if part not in last["parts"]:
            continue
        b, e = base["parts"][part], last["parts"][part]
        peak = max(s["parts"].get(part, {}).get("rss_mb", 0.0) for s in after)
        change = (e["rss_mb"] - b["rss_mb"]) / b["rss_mb"] * 100 if b["rss_mb"] else 0.0
        print(
            f"| {part} | {b['rss_mb']:.1f} | {peak:.1f} | {e['rss_mb']:.1f} | {change:+.1f} % "
            f"| {b['fds']:.0f}→{e['fds']:.0f} | {b['tcp']:.0f}→{e['tcp']:.0f} |"
        )
    print(f"\nPostgreSQL client backends: {base['pg_backends']} → {last['pg_backends']}")
    print("\n| minute | requests | p50 ms | p99 ms | orders p99 ms | load |")
    print("|---|---|---|---|---|---|")
    for s in samples:
        lat = s["latency"]
        if lat:
            print(
                f"| {s['minute']:.1f} | {lat['requests']} | {lat['p50_ms']:.0f} | {lat['p99_ms']:.0f} "
                f"| {lat['orders_p99_ms']:.0f} | {s['load'][0]:.1f} |"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--orders", type=float, default=50)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--sample", type=float, default=60)
    args = parser.parse_args()
    asyncio.run(main(args.minutes, args.orders, args.warmup, args.sample))
