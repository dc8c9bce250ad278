"""Which background workers a service process runs, from its settings."""

from __future__ import annotations

from functools import partial
from types import MethodType

import pytest

from relacja_customers.settings import CustomersSettings
from relacja_messaging import EventHandlers
from relacja_servicekit.app import messaging_workers
from relacja_servicekit.db import Database
from relacja_servicekit.housekeeping import Housekeeping


def owner(worker: object) -> object:
    """The component a worker belongs to: every worker is a bound method of one (run, serve, ...)."""
    assert isinstance(worker, MethodType)
    return worker.__self__


def worker_kinds(run_relay: bool, run_consumers: bool) -> set[str]:
    settings = CustomersSettings(run_relay=run_relay, run_consumers=run_consumers)
    database = Database(settings.database_url)  # the engine connects lazily: nothing is opened here
    workers = messaging_workers(database, settings, name="customers", consumers={"customers.test": EventHandlers()})
    return {type(owner(worker)).__name__ for worker in workers}


@pytest.mark.parametrize(
    ("run_relay", "run_consumers", "expected"),
    [
        (True, True, {"OutboxRelay", "Housekeeping", "EventConsumer"}),
        (True, False, {"OutboxRelay", "Housekeeping"}),
        (False, True, {"EventConsumer"}),
        (False, False, set()),
    ],
)
def test_the_relay_process_also_does_the_housekeeping(run_relay: bool, run_consumers: bool, expected: set[str]) -> None:
    assert worker_kinds(run_relay, run_consumers) == expected


def test_the_housekeeping_keeps_rows_for_the_configured_retentions() -> None:
    settings = CustomersSettings(idempotency_key_retention_hours=48, inbox_retention_days=45)
    workers = messaging_workers(Database(settings.database_url), settings, name="customers", consumers={})
    housekeeping = next(h for h in map(owner, workers) if isinstance(h, Housekeeping))
    retentions = {}
    for name, purge in housekeeping.purges.items():
        assert isinstance(purge, partial)  # a purge function with its retention bound
        retentions[name] = purge.keywords["retention"].total_seconds()
    assert retentions == {"idempotency keys": 48 * 3600, "inbox rows": 45 * 86400}
