"""The benchmark stack: the dev profile moved to its own ports and state folder.

    gateway 28080, services 28101-28105, 28106 (sharing), 28107 (loyalty) and 28110 (recommendations), 28108 (engagement), broker 29092, PostgreSQL 55434,
    SMTP sink 28025,
    state in .state/bench (emptied on every start); RELACJA_BENCH_PORT_OFFSET adds to all

so a benchmark runs beside ``make run`` (dev ports) and ``make test`` (test ports).
``bench_stack(services=())`` starts only PostgreSQL, the broker and the SMTP sink.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import statistics
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from types import MappingProxyType

import psutil

from relacja_devstack import Stack, StackConfig
from relacja_devstack.config import REPO_ROOT

__all__ = ["bench_config", "bench_stack", "cpu_seconds", "load_average", "median", "percentile", "stack_processes"]

# RELACJA_BENCH_PORT_OFFSET moves every port, so two checkouts can benchmark at once.
_OFFSET = int(os.environ.get("RELACJA_BENCH_PORT_OFFSET", "0"))
PORTS = {
    name: port + _OFFSET
    for name, port in {
        "gateway": 28080,
        "customers": 28101,
        "segmentation": 28102,
        "orders": 28103,
        "tickets": 28104,
        "churn": 28105,
        "sharing": 28106,
        "loyalty": 28107,
        "recommendations": 28110,
        "sales": 28109,
        "engagement": 28108,
    }.items()
}
PG_PORT = 55434 + _OFFSET
BROKER_PORT = 29092 + _OFFSET
SMTP_PORT = 28025 + _OFFSET
STATE_DIR = REPO_ROOT / ".state" / "bench"


def bench_config(
    services: Iterable[str] | None = None,
    *,
    slot: int = 0,
    state_dir: Path = STATE_DIR,
    ready_timeout: float | None = None,
) -> StackConfig:
    """The dev profile on the bench ports; ``services`` limits which uvicorn processes run.
    ``slot`` moves every port by 100 × slot, so a benchmark keeping its own stack (and its
    own ``state_dir``) never collides with another one's."""
    base = StackConfig.for_profile("dev", env={})  # ignore RELACJA_STACK_* meant for dev/test
    specs = base.services if services is None else tuple(s for s in base.services if s.name in set(services))
    shift = 100 * slot
    return dataclasses.replace(
        base,
        state_dir=state_dir,
        pg_port=PG_PORT + shift,
        broker_port=BROKER_PORT + shift,
        smtp_port=SMTP_PORT + shift,
        service_ports=MappingProxyType({name: port + shift for name, port in PORTS.items()}),
        fresh=True,
        services=specs,
        ready_timeout=ready_timeout or base.ready_timeout,
    )


@contextlib.asynccontextmanager
async def bench_stack(services: Iterable[str] | None = None) -> AsyncIterator[Stack]:
    """Start the bench stack (fresh state) and always stop it again."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    stack = Stack(bench_config(services))
    try:
        await stack.start(fresh=True)
        yield stack
    finally:
        await stack.stop()


def stack_processes(state_dir: Path) -> list[tuple[str, psutil.Process]]:
    """(part, process) for every process of a running stack, children included.

    PostgreSQL: the postmaster (``<state>/pgdata/postmaster.pid``) and its children; the
    broker and each uvicorn: the pids the runner records in ``<state>/pids.json``.
    """
    roots = [("postgres", int((state_dir / "pgdata" / "postmaster.pid").read_text().splitlines()[0]))]
    roots += [(name, int(record["pid"])) for name, record in json.loads((state_dir / "pids.json").read_text()).items()]
    found = []
    for part, pid in roots:
        root = psutil.Process(pid)
        found += [(part, p) for p in [root, *root.children(recursive=True)]]
    return found


def cpu_seconds(state_dir: Path) -> dict[str, float]:
    """CPU time (user + system) used so far per part of the stack, plus this process as ``bench``."""
    used: dict[str, float] = {}
    for part, proc in stack_processes(state_dir):
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        used[part] = used.get(part, 0.0) + times.user + times.system
    me = psutil.Process().cpu_times()
    used["bench (this script)"] = me.user + me.system
    return used


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of non-empty ``values``."""
    ordered = sorted(values)
    rank = max(1, math.ceil(len(ordered) * p / 100))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def load_average() -> str:
    """The 1/5/15-minute load averages: other work on a 2-core box shows in every figure."""
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
