"""Gateway overhead: the same ``GET /api/v1/customers/{id}`` called directly on the customers
service and through the gateway, side by side in one run; plus the customer 360 view.

    python -m bench.gateway_overhead [--duration 10] [--concurrency 16] [--rounds 3]

Needs ``wrk`` (Debian: ``apt-get install -y wrk``) as the load generator: it is written in
C and runs in its own process with one thread, so it is not the bottleneck.

Method. A stack of its own (PostgreSQL, broker, every service, gateway) on the bench
ports + 200 (``bench_config(slot=2)``), state in .state/bench-c, emptied first and
stopped afterwards. The gateway
runs as in production (one uvicorn worker), with its rate limit on but set out of reach
(so its cost is measured, not its refusals). One customer is created; then, for
``--rounds`` rounds, alternately:

    direct    wrk → customers                 GET /api/v1/customers/{id}
    gateway   wrk → gateway → customers       the same, with a bearer token (HS256)

each at a fixed concurrency for ``--duration`` seconds, and once more at concurrency 1
(unloaded latency). Reported: requests/s and p50/p95/p99 latency (wrk's own histogram),
the gateway's share of the direct throughput, and the p50 it adds (median over rounds).

httpx pool contention (encode/httpx#3215): the proxy's client is measured on its own —
``--concurrency`` tasks in one process calling customers directly with exactly the
gateway's client (httpx over aiohttp, ``new_upstream_client``) and, for comparison, plain
httpx over httpcore — next to wrk direct. A client far below wrk would make the proxy
transport the bottleneck.

Customer 360: ``GET /api/v1/customers/{id}/360`` with an admin token at concurrency 1 and
``--concurrency``, every service running, after waiting (up to 10 s) until every part
is there; the parts still missing, if any, are printed. p95 is reported (target ≤ 50 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from relacja_devstack import Stack
from relacja_devstack.config import REPO_ROOT

from ._stack import bench_config, median

STATE_DIR = REPO_ROOT / ".state" / "bench-c"
TARGET_SHARE = 0.60
TARGET_ADDED_P50_MS = 2.0
TARGET_360_P95_MS = 50.0

# wrk reports its latency histogram (microseconds) through this script as one JSON line.
WRK_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('{"requests": %d, "seconds": %f, "p50": %f, "p95": %f, "p99": %f, "errors": %d, "non2xx": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    errors, summary.errors.status))
end
"""

HTTPX_LOAD = """
import asyncio, json, sys, time
import httpx
from relacja_gateway.proxy import new_upstream_client
from relacja_gateway.settings import GatewaySettings
url, concurrency, duration, transport = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
async def main():
    count = 0
    if transport == "httpcore":  # httpx's own transport, for comparison
        client = httpx.AsyncClient(limits=httpx.Limits(max_connections=100), trust_env=False)
    else:  # exactly the gateway's shared client (aiohttp under httpx)
        client = new_upstream_client(GatewaySettings())
    async with client:
        deadline = time.perf_counter() + duration
        async def worker():
            nonlocal count
            while time.perf_counter() < deadline:
                (await client.get(url)).raise_for_status()
                count += 1
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        print(json.dumps({"requests": count, "seconds": time.perf_counter() - started}))
asyncio.run(main())
"""


def wrk(url: str, *, concurrency: int, duration: float, headers: dict[str, str] | None = None) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_REPORT)
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{duration:g}s", "--timeout", "5s", "-s", script.name]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    try:
        output = subprocess.run(
            [*command, url], capture_output=True, text=True, check=True, timeout=duration + 30
        ).stdout
    finally:
        os.unlink(script.name)
    report = json.loads(output.strip().splitlines()[-1])
    if report["errors"] or report["non2xx"]:
        raise RuntimeError(f"wrk saw errors: {report}")
    return {
        "rps": report["requests"] / report["seconds"],
        "p50_ms": report["p50"] / 1000,
        "p95_ms": report["p95"] / 1000,
        "p99_ms": report["p99"] / 1000,
    }


def httpx_alone(url: str, *, concurrency: int, duration: float, transport: str) -> float:
    output = subprocess.run(
        [sys.executable, "-c", HTTPX_LOAD, url, str(concurrency), str(duration), transport],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 30,
    ).stdout
    report = json.loads(output.strip().splitlines()[-1])
    return report["requests"] / report["seconds"]


def show(label: str, result: dict[str, float]) -> None:
    print(
        f"  {label:<28} {result['rps']:>8.0f} req/s   p50 {result['p50_ms']:6.2f} ms   p95 {result['p95_ms']:6.2f} ms   p99 {result['p99_ms']:6.2f} ms"
    )


async def run(args: argparse.Namespace) -> dict[str, object]:
    # The gateway inherits this environment (the stack copies os.environ into it).
    os.environ["RELACJA_GATEWAY_RATE_LIMIT_RATE"] = "1000000"
    os.environ["RELACJA_GATEWAY_RATE_LIMIT_BURST"] = "1000000"
    os.environ["RELACJA_GATEWAY_LOG_LEVEL"] = "WARNING"
    os.environ["RELACJA_CUSTOMERS_LOG_LEVEL"] = "WARNING"
    stack = Stack(bench_config(slot=2, state_dir=STATE_DIR))  # every service: the 360 view fetches all parts
    try:
        await stack.start(fresh=True)
        token = stack.token(["admin"])
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=stack.gateway_url, headers=auth, timeout=10, trust_env=False) as client:
            created = await client.post(
                "/api/v1/customers", json={"kind": "person", "display_name": "Bench Mark", "email": "bench@example.com"}
            )
            created.raise_for_status()
            customer_id = created.json()["id"]
            missing: list[dict[str, str]] = []
            for _ in range(50):  # the projections catch up with the registration
                missing = (await client.get(f"/api/v1/customers/{customer_id}/360")).json()["missing"]
                if not missing:
                    break
                await asyncio.sleep(0.2)
            print(f"customer 360 parts missing: {missing or 'none'}")
        path = f"/api/v1/customers/{customer_id}"
        direct_url = stack.service_url("customers") + path
        gateway_url = stack.gateway_url + path
        view_url = stack.gateway_url + path + "/360"

        print(f"warm-up, then {args.rounds} rounds of {args.duration:g} s at concurrency {args.concurrency}")
        wrk(direct_url, concurrency=args.concurrency, duration=2)
        wrk(gateway_url, concurrency=args.concurrency, duration=2, headers=auth)
        wrk(view_url, concurrency=2, duration=2, headers=auth)
        rounds = []
        for number in range(1, args.rounds + 1):
            direct = wrk(direct_url, concurrency=args.concurrency, duration=args.duration)
            through = wrk(gateway_url, concurrency=args.concurrency, duration=args.duration, headers=auth)
            print(f"round {number}")
            show("direct", direct)
            show("through the gateway", through)
            rounds.append((direct, through))
        print("unloaded (concurrency 1)")
        direct_1 = wrk(direct_url, concurrency=1, duration=args.duration)
        through_1 = wrk(gateway_url, concurrency=1, duration=args.duration, headers=auth)
        show("direct", direct_1)
        show("through the gateway", through_1)
        print("the proxy's client alone (its own process)")
        httpx_rps = httpx_alone(direct_url, concurrency=args.concurrency, duration=args.duration, transport="gateway")
        httpcore_rps = httpx_alone(
            direct_url, concurrency=args.concurrency, duration=args.duration, transport="httpcore"
        )
        print(f"  {'gateway client → customers':<28} {httpx_rps:>8.0f} req/s   (httpx over aiohttp)")
        print(f"  {'plain httpx → customers':<28} {httpcore_rps:>8.0f} req/s   (httpx over httpcore, for comparison)")
        print("customer 360")
        view_1 = wrk(view_url, concurrency=1, duration=args.duration, headers=auth)
        view_n = wrk(view_url, concurrency=args.concurrency, duration=args.duration, headers=auth)
        show("360, concurrency 1", view_1)
        show(f"360, concurrency {args.concurrency}", view_n)
    finally:
        await stack.stop()

    share = median([t["rps"] / d["rps"] for d, t in rounds])
    added_p50 = median([t["p50_ms"] - d["p50_ms"] for d, t in rounds])
    added_p50_unloaded = through_1["p50_ms"] - direct_1["p50_ms"]
    print("\nsummary (median over rounds)")
    print(f"  throughput through the gateway: {share:.0%} of direct (target ≥ {TARGET_SHARE:.0%})")
    print(
        f"  added p50 at concurrency {args.concurrency}: {added_p50:.2f} ms; unloaded: {added_p50_unloaded:.2f} ms (target ≤ {TARGET_ADDED_P50_MS:g} ms)"
    )
    print(
        f"  proxy client alone: {httpx_rps:.0f} req/s (plain httpx {httpcore_rps:.0f}) vs wrk direct {median([d['rps'] for d, _ in rounds]):.0f} req/s"
    )
    print(
        f"  customer 360 p95: {view_1['p95_ms']:.2f} ms (c=1), {view_n['p95_ms']:.2f} ms (c={args.concurrency}) (target ≤ {TARGET_360_P95_MS:g} ms)"
    )
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "rounds": rounds,
        "share": share,
        "added_p50_ms": added_p50,
        "unloaded": {"direct": direct_1, "gateway": through_1, "added_p50_ms": added_p50_unloaded},
        "gateway_client_alone_rps": httpx_rps,
        "plain_httpx_alone_rps": httpcore_rps,
        "customer360": {"c1": view_1, f"c{args.concurrency}": view_n},
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.gateway_overhead", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement (default 10)")
    parser.add_argument("--concurrency", type=int, default=16, help="open connections (default 16)")
    parser.add_argument("--rounds", type=int, default=3, help="direct/gateway pairs (default 3)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (Debian: apt-get install -y wrk)")
    started = time.perf_counter()
    figures = asyncio.run(run(args))
    print(f"\n(took {time.perf_counter() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
