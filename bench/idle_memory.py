"""Idle memory (target <= 1.2 GB) and idle CPU (target <= 3 % of one core) of the whole local stack.

    make bench-memory
    python -m bench.idle_memory [--idle 60] [--settle 20]

Method. The full bench stack starts as ``make run`` starts it (PostgreSQL with one
database per service, the broker, every service and the gateway under uvicorn; bench
ports, see ``_stack.py``), lets it settle for ``--settle`` seconds (start-up work: the
consumer groups join, the scheduled recomputations' first turn, the consumers' switch to
their idle wait), then idles for ``--idle`` seconds with no requests. Then every process of
the stack is measured with psutil:

- PostgreSQL: the postmaster (pid from ``<state>/pgdata/postmaster.pid``) and all its
  children (checkpointer, walwriter, io workers, one backend per pooled connection ...);
- the broker and each uvicorn process (pids from ``<state>/pids.json``, where the runner
  records them), each with any children.

The CPU each part used during the idle period is printed too (an idle stack should not
burn CPU; pollers show up here), and their sum over every process of the stack (this
script excluded) is the idle-CPU figure, in % of one core (issue #18: <= 3 %). A process
that started or ended during the window (a PostgreSQL worker) counts only with the CPU
seen at both ends.

RSS counts shared pages (PostgreSQL's shared buffers, the Python interpreter's shared
libraries) once per process that touches them, so the RSS sum overstates what the stack
takes; PSS divides each shared page among the processes sharing it, so the PSS sum is
the stack's real share of RAM. Both are printed; the target is checked against PSS.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from dataclasses import dataclass

import psutil

from ._stack import bench_stack, cpu_seconds, load_average, stack_processes

TARGET_MB = 1200.0
TARGET_IDLE_CPU_PERCENT = 3.0
BENCH = "bench (this script)"
MB = 1024 * 1024


@dataclass
class Usage:
    part: str
    pid: int
    command: str
    rss: int
    pss: int | None
    uss: int | None


def measure(part: str, proc: psutil.Process) -> Usage:
    with proc.oneshot():
        rss = proc.memory_info().rss
        try:
            full = proc.memory_full_info()  # reads /proc/<pid>/smaps_rollup
            pss, uss = getattr(full, "pss", None), full.uss
        except psutil.AccessDenied:
            pss = uss = None
        cmdline = proc.cmdline()
    command = " ".join([os.path.basename(cmdline[0]), *cmdline[1:]]) if cmdline else proc.name()
    return Usage(part, proc.pid, command, rss, pss, uss)


async def main(idle: float, settle: float) -> None:
    async with bench_stack() as stack:
        print(f"stack up; settling {settle:.0f} s, then idling {idle:.0f} s ...", flush=True)
        await asyncio.sleep(settle)
        cpu_before = cpu_seconds(stack.config.state_dir)
        await asyncio.sleep(idle)
        cpu_after = cpu_seconds(stack.config.state_dir)
        usages = []
        for part, proc in stack_processes(stack.config.state_dir):
            try:
                usages.append(measure(part, proc))
            except psutil.NoSuchProcess:  # e.g. a PostgreSQL worker that just exited
                continue
        note = load_average()

    print(f"\nIdle memory of the local stack after {idle:.0f} s idle ({note}):")
    print(f"  {'part':13s} {'pid':>7s} {'RSS MB':>8s} {'PSS MB':>8s} {'USS MB':>8s}  command")
    for u in usages:
        pss = f"{u.pss / MB:8.1f}" if u.pss is not None else "       ?"
        uss = f"{u.uss / MB:8.1f}" if u.uss is not None else "       ?"
        print(f"  {u.part:13s} {u.pid:7d} {u.rss / MB:8.1f} {pss} {uss}  {u.command[:70]}")
    print(f"  {'':13s} {'':7s} {'--------':>8s} {'--------':>8s} {'--------':>8s}")
    parts = sorted({u.part for u in usages}, key=[u.part for u in usages].index)
    for part in parts:
        mine = [u for u in usages if u.part == part]
        print(
            f"  {part:13s} {len(mine):4d} pr {sum(u.rss for u in mine) / MB:8.1f} "
            f"{sum(u.pss or 0 for u in mine) / MB:8.1f} {sum(u.uss or 0 for u in mine) / MB:8.1f}"
        )
    total_rss = sum(u.rss for u in usages) / MB
    total_pss = sum(u.pss or 0 for u in usages) / MB
    print(
        f"  {'TOTAL':13s} {len(usages):4d} pr {total_rss:8.1f} {total_pss:8.1f} "
        f"{sum(u.uss or 0 for u in usages) / MB:8.1f}"
    )
    print(
        "\n  CPU while idle, % of one core: "
        + ", ".join(f"{part} {100 * (cpu_after[part] - cpu_before.get(part, 0.0)) / idle:.1f}%" for part in cpu_after)
    )
    used = {part: 100 * (cpu_after[part] - cpu_before.get(part, 0.0)) / idle for part in cpu_after if part != BENCH}
    total_cpu = sum(used.values())
    cpu_verdict = "OK" if total_cpu <= TARGET_IDLE_CPU_PERCENT else "ABOVE TARGET"
    print(
        f"  idle CPU, all processes of the stack: {total_cpu:.1f} % of one core over {idle:.0f} s "
        f"(target <= {TARGET_IDLE_CPU_PERCENT:.0f} %): {cpu_verdict}"
    )
    verdict = "OK" if total_pss <= TARGET_MB else "ABOVE TARGET"
    print(f"\n  total PSS {total_pss:,.0f} MB, RSS {total_rss:,.0f} MB (target <= {TARGET_MB:,.0f} MB, PSS): {verdict}")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=float, default=60.0, help="seconds of idle measured (CPU)")
    parser.add_argument("--settle", type=float, default=20.0, help="seconds after start before the idle window")
    args = parser.parse_args()
    asyncio.run(main(args.idle, args.settle))


if __name__ == "__main__":
    cli()
