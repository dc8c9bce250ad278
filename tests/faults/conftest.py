"""The fault scenarios' own stack: the test profile with the fault proxies on.

``pytest tests/faults`` (``make test-faults``, ``make test-faults-ci``) starts the ``test``
profile's stack with ``fault_proxies=True`` (``relacja_devstack/faultproxy.py``): every
service reaches PostgreSQL and the broker through proxies of its own (``stack.proxy(service,
"postgres" | "broker")``) that the scenarios slow, blackhole or reset. ``make test`` does not collect this folder (tests/conftest.py):
the scenarios kill and restart parts of the stack that the other tests share.

Every scenario's :class:`~tests.faults.verdict.Verdict` is collected and the report
(``report.py``) rewritten after each one — so an interrupted run still leaves the table
of what it did — to ``$RELACJA_FAULTS_REPORT`` (``make test-faults``: docs/reliability.md)
or to ``.state/test/reliability.md``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from relacja_devstack import Stack, StackConfig
from relacja_devstack.config import REPO_ROOT

from .report import run_started, write_report
from .verdict import Verdict


def full_run_scenarios() -> int:
    """How many scenarios ``make test-faults`` judges: every test of test_scenarios.py, the
    kill -9 one once per killed service."""
    from . import test_scenarios

    tests = [name for name in dir(test_scenarios) if name.startswith("test_")]
    return len(tests) - 1 + len(test_scenarios.KILLED)


@pytest.fixture(scope="session")
async def stack() -> AsyncIterator[Stack]:
    running = Stack(dataclasses.replace(StackConfig.for_profile("test"), fault_proxies=True))
    await running.start(fresh=True)
    try:
        yield running
    finally:
        await running.stop()


class Verdicts(list[Verdict]):
    """The session's verdicts; appending one rewrites the report."""

    def __init__(self, target: Path) -> None:
        super().__init__()
        self.target = target
        self.started = run_started()

    def append(self, verdict: Verdict) -> None:
        super().append(verdict)
        write_report(self, self.target, scenarios=full_run_scenarios(), started=self.started)


@pytest.fixture(scope="session")
def verdicts() -> Iterator[Verdicts]:
    target = Path(os.environ.get("RELACJA_FAULTS_REPORT") or REPO_ROOT / ".state" / "test" / "reliability.md")
    yield Verdicts(target if target.is_absolute() else REPO_ROOT / target)
