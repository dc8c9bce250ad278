"""Test tiers, as in the folder names:

    unit/         pure logic and ASGI-level checks; no database, no broker
    integration/  shared messaging pieces against the real PostgreSQL and the real broker
    e2e/          the running suite, through the gateway

Tests marked ``flood`` (a whole data set imported through the services) run after all
others: every consumer then has tens of thousands of events to apply, and a test that
replays whole topics into a new consumer group must not wait for those.

The ``stack`` fixture starts the local stack once per session with the ``test`` profile
(its own ports and a fresh state folder under .state/test, so it runs beside
``make run``) — the same bootstrap ``make run`` uses. Only tests that ask for it pay
for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from relacja_devstack import Stack, StackConfig


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("flood") is not None)  # stable: the rest keep their order


@pytest.fixture(scope="session")
async def stack() -> AsyncIterator[Stack]:
    running = Stack(StackConfig.for_profile("test"))
    await running.start(fresh=True)
    try:
        yield running
    finally:
        await running.stop()
