"""The write path of placing an order, on its own: CPU per order in the orders process and PostgreSQL.

    python -m bench.write_path [--customers 10000] [--seconds 15] [--concurrency 8] [--profile out.txt]

Issue 18, part 2: every change to the placement path is measured by what it costs per
order, not by orders/s — on a machine shared by other work, wall-clock rates move with
the neighbours' load while CPU seconds per order barely do.

Method. A bench stack of PostgreSQL, the broker and the orders service only (its relay
runs in the process, as in ``make run``: publishing the order's event is part of its
cost). Seeded as ``bench.orders`` does (customers COPYed into the projection, 20 products).
wrk (closed loop, ``--concurrency`` connections) posts orders straight to the service
(no gateway: its cost is measured by ``bench.gateway_overhead``) for ``--seconds`` after a
5 s warm-up; the figure is CPU milliseconds per placed order of each part (``/proc``
times of the service's process, PostgreSQL's processes and the broker) and orders/s.
With ``--profile FILE`` py-spy (``py-spy record --format raw``, 100 Hz, needs py-spy on
PATH) samples the orders process during the measured run, and the share of samples in
each layer (SQLAlchemy, asyncpg, FastAPI/Starlette, pydantic, the service's code, the
relay) and the heaviest functions (own time) are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import httpx

from ._stack import bench_stack, cpu_seconds, load_average
from .orders import create_products, seed_customers, sustained

# Layers of a sample, the first match from the innermost frame outwards wins for "own" time;
# "inclusive" counts a sample in every layer that appears anywhere on its stack.
LAYERS = {
    "sqlalchemy": ("sqlalchemy/",),
    "asyncpg": ("asyncpg/",),
    "starlette/fastapi": ("starlette/", "fastapi/"),
    "pydantic": ("pydantic",),
    "uvicorn/h11/httptools": ("uvicorn/", "h11/", "httptools"),
    "relay (relacja_messaging)": ("relacja_messaging/",),
    "relacja_servicekit": ("relacja_servicekit/",),
    "relacja_orders": ("relacja_orders/",),
    "aiokafka": ("aiokafka/",),
}


def _matches(frame: str, needles: tuple[str, ...]) -> bool:
    return any(n in frame for n in needles)


def summarise_profile(raw: Path, top: int = 25) -> str:
    """A text summary of a ``py-spy record --format raw`` file (collapsed stacks: frames ; count)."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    layer_incl: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
        for layer, needle in LAYERS.items():
            if any(_matches(f, needle) for f in frames):
                layer_incl[layer] += count
    if not total:
        return "no samples"
    out = [f"{total} samples; share of samples with the layer anywhere on the stack:"]
    out += [f"  {layer_incl[layer] * 100 / total:5.1f} %  {layer}" for layer in LAYERS]
    out.append("heaviest functions, own time:")
    out += [f"  {count * 100 / total:5.1f} %  {frame}" for frame, count in own.most_common(top)]
    out.append("heaviest relacja_* frames, inclusive:")
    ours = [(f, c) for f, c in inclusive.most_common() if "relacja_" in f]
    out += [f"  {count * 100 / total:5.1f} %  {frame}" for frame, count in ours[:top]]
    return "\n".join(out)


def start_profiler(pid: int, seconds: float, raw: Path) -> subprocess.Popen[bytes]:
    if shutil.which("py-spy") is None:
        raise SystemExit("--profile needs py-spy on PATH")
    # --gil: only samples holding the GIL, i.e. the process's Python CPU, not its idle threads.
    command = ["py-spy", "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "100", "--gil", "-f", "raw"]
    return subprocess.Popen([*command, "-o", str(raw)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def finish_profile(spy: subprocess.Popen[bytes], raw: Path, out: Path, seconds: float) -> str:
    """Wait for py-spy, write the summary to ``out`` and the raw stacks beside it (``.raw``)."""
    spy.wait(timeout=seconds + 60)
    summary = summarise_profile(raw)
    out.write_text(summary + "\n")
    shutil.copy(raw, out.with_suffix(".raw"))
    raw.unlink(missing_ok=True)
    return summary


async def main(args: argparse.Namespace) -> None:
    os.environ["RELACJA_ORDERS_LOG_LEVEL"] = "WARNING"
    async with bench_stack(services=["orders"]) as stack:
        dsn = stack.config.postgres_dsn("relacja_orders")
        customers = await seed_customers(dsn, args.customers)
        url = stack.service_url("orders")
        async with httpx.AsyncClient(base_url=url, timeout=30, trust_env=False) as client:
            skus = await create_products(client)
        sustained(url, "unused", customers, skus, args.concurrency, 5)  # warm-up: pool, plans, caches
        pid = json.loads((stack.config.state_dir / "pids.json").read_text())["orders"]["pid"]
        raw = Path(tempfile.mkstemp(suffix=".txt")[1])
        spy = start_profiler(pid, args.seconds, raw) if args.profile else None
        before = cpu_seconds(stack.config.state_dir)
        result = sustained(url, "unused", customers, skus, args.concurrency, args.seconds)
        after = cpu_seconds(stack.config.state_dir)
        placed = result["requests"] - result["non2xx"]
        per_order = {
            part: (after[part] - before.get(part, 0.0)) * 1000 / max(placed, 1)
            for part in after
            if part in {"orders", "postgres", "broker"}
        }
        print(
            f"\n# write path: {os.cpu_count()} CPUs, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {load_average()}\n"
            f"wrk {args.concurrency} connections, {args.seconds:g} s, straight to the orders service: "
            f"{result['rps']:.0f} orders/s, p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, "
            f"{result['requests']} requests, {result['non2xx']} non-2xx, {result['errors']} socket errors\n"
            "CPU per placed order: "
            + ", ".join(f"{part} {ms:.2f} ms" for part, ms in sorted(per_order.items()))
            + f"; together {sum(per_order.values()):.2f} ms",
            flush=True,
        )
        if spy is not None:
            print(finish_profile(spy, raw, Path(args.profile), args.seconds))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=10000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--profile", help="write a py-spy summary here (and the raw stacks beside it, .raw)")
    asyncio.run(main(parser.parse_args()))
