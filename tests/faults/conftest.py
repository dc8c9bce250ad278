"""The fault scenarios' own stack: the test profile with the fault proxies on.

``pytest tests/faults`` (``make test-faults``, ``make test-faults-ci``) starts the ``test``
profile's stack with ``fault_proxies=True`` (``relacja_devstack/faultproxy.py``): every
service reaches PostgreSQL and the broker through a proxy the scenarios can slow, blackhole
or reset per service. ``make test`` does not collect this folder (tests/conftest.py):
the scenarios kill and restart parts of the stack that the other tests share.

Every scenario's :class:`~tests.faults.verdict.Verdict` is collected; at the end of the
session the report (``report.py``) is written to ``$RELACJA_FAULTS_REPORT`` (``make
test-faults``: docs/reliability.md) or to ``.state/test/reliability.md``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from relacja_devstack import Stack, StackConfig
from relacja_devstack.config import REPO_ROOT

from .report import write_report
from .verdict import Verdict


@pytest.fixture(scope="session")
async def stack() -> AsyncIterator[Stack]:
    running = Stack(dataclasses.replace(StackConfig.for_profile("test"), fault_proxies=True))
    await running.start(fresh=True)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture(scope="session")
def verdicts() -> Iterator[list[Verdict]]:
    collected: list[Verdict] = []
    yield collected
    target = Path(os.environ.get("RELACJA_FAULTS_REPORT") or REPO_ROOT / ".state" / "test" / "reliability.md")
    if collected:
        write_report(collected, target)
