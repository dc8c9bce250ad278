"""The benchmark stack: the dev profile moved to its own ports and state folder.

    gateway 28080, customers 28101, segmentation 28102, broker 29092, PostgreSQL 55434,
    state in .state/bench (emptied on every start)

so a benchmark runs beside ``make run`` (dev ports) and ``make test`` (test ports).
``bench_stack(services=())`` starts only PostgreSQL and the broker.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import statistics
from collections.abc import AsyncIterator, Iterable, Sequence
from types import MappingProxyType

from relacja_devstack import Stack, StackConfig
from relacja_devstack.config import REPO_ROOT

__all__ = ["bench_config", "bench_stack", "median", "percentile"]

PORTS = {"gateway": 28080, "customers": 28101, "segmentation": 28102}
PG_PORT = 55434
BROKER_PORT = 29092
STATE_DIR = REPO_ROOT / ".state" / "bench"


def bench_config(services: Iterable[str] | None = None) -> StackConfig:
    """The dev profile on the bench ports; ``services`` limits which uvicorn processes run."""
    base = StackConfig.for_profile("dev", env={})  # ignore RELACJA_STACK_* meant for dev/test
    specs = base.services if services is None else tuple(s for s in base.services if s.name in set(services))
    return dataclasses.replace(
        base,
        state_dir=STATE_DIR,
        pg_port=PG_PORT,
        broker_port=BROKER_PORT,
        service_ports=MappingProxyType(dict(PORTS)),
        fresh=True,
        services=specs,
    )


@contextlib.asynccontextmanager
async def bench_stack(services: Iterable[str] | None = None) -> AsyncIterator[Stack]:
    """Start the bench stack (fresh state) and always stop it again."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S")
    stack = Stack(bench_config(services))
    try:
        await stack.start(fresh=True)
        yield stack
    finally:
        await stack.stop()


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of non-empty ``values``."""
    ordered = sorted(values)
    rank = max(1, math.ceil(len(ordered) * p / 100))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)
