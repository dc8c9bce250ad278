"""Test tiers, as in the folder names:

    unit/         pure logic and ASGI-level checks; no database, no broker
    integration/  shared messaging pieces against the real PostgreSQL and the real broker
    e2e/          the running suite, through the gateway

Two kinds of tests run after all others, in this order: ``flood`` (a whole data set
imported through the services: every consumer then has tens of thousands of events to
apply, and a test that replays whole topics into a new consumer group must not wait for
those), then ``fuzz`` (schemathesis' generated requests leave random records behind — a
default SLA policy, customers with made-up external ids — that other tests must not see).

The ``stack`` fixture starts the local stack once per session with the ``test`` profile
(its own ports and a fresh state folder under .state/test, so it runs beside
``make run``) — the same bootstrap ``make run`` uses. Only tests that ask for it pay
for it.

Folders in ``_EXPLICIT_ONLY`` (the fault scenarios and the security suite) are collected only when named on the command line (``make
test-faults`` / ``make test-faults-ci``): the security suite attacks the stack for minutes
and the fault scenarios stop and restart the stack's parts: both have their own make
targets, so ``make test`` does not pay for them twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from relacja_devstack import Stack, StackConfig

_RUN_LAST = ("flood", "fuzz")
# Run by `make test-faults` / `make test-faults-ci` (and by naming them), not by `make test`.
_EXPLICIT_ONLY = ("faults", "security")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave out the explicit-only folders unless an argument names them (or a path in them)."""
    here = Path(__file__).parent
    for name in _EXPLICIT_ONLY:
        folder = here / name
        if collection_path == folder or folder in collection_path.parents:
            named = [Path(a.split("::")[0]).resolve() for a in config.args]
            if not any(arg == folder or folder in arg.parents for arg in named):
                return True
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((i + 1 for i, name in enumerate(_RUN_LAST) if item.get_closest_marker(name)), 0)

    items.sort(key=rank)  # stable: the rest keep their order


@pytest.fixture(scope="session")
async def stack() -> AsyncIterator[Stack]:
    running = Stack(StackConfig.for_profile("test"))
    await running.start(fresh=True)
    try:
        yield running
    finally:
        await running.stop()
