"""Consumer lag in events and seconds, its metrics and the backlog log lines (relacja_messaging.progress)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from relacja_messaging.progress import BacklogLog, PartitionProgress, consumer_lag, forget, report


@pytest.fixture
def name() -> Iterator[str]:
    consumer = f"unit-{uuid.uuid4().hex[:8]}"
    yield consumer
    forget(consumer)


def test_lag_is_the_high_watermark_minus_the_next_offset_and_zero_seconds_when_nothing_waits() -> None:
    now = time.time()
    assert PartitionProgress(next_offset=10, highwater=25, waiting_since=now - 7).lag_events == 15
    assert PartitionProgress(next_offset=10, highwater=25, waiting_since=now - 7).lag_seconds(now) == 7
    caught_up = PartitionProgress(next_offset=25, highwater=25, waiting_since=now - 7)
    assert caught_up.lag_events == 0 and caught_up.lag_seconds(now) == 0
    # A high watermark from an older fetch than the offset: never negative.
    assert PartitionProgress(next_offset=30, highwater=25, waiting_since=None).lag_events == 0


def test_a_consumers_lag_sums_events_and_takes_the_oldest_wait_over_its_partitions(name: str) -> None:
    now = time.time()
    report(name, "relacja.orders", 0, PartitionProgress(100, 150, now - 4))
    report(name, "relacja.orders", 1, PartitionProgress(7, 9, now - 30))
    report(name, "relacja.customers", 0, PartitionProgress(5, 5, None))
    orders = consumer_lag(name, "relacja.orders")
    assert orders is not None and orders.lag_events == 52 and 29 < orders.lag_seconds < 40
    customers = consumer_lag(name, "relacja.customers")
    assert customers is not None and customers.lag_events == 0 and customers.lag_seconds == 0
    assert consumer_lag(name, "relacja.tickets") is None
    forget(name, keep=[("relacja.orders", 1)])  # partition 0 moved to another replica
    orders = consumer_lag(name, "relacja.orders")
    assert orders is not None and orders.lag_events == 2
    assert consumer_lag(name, "relacja.customers") is None


def test_the_lag_metrics_are_computed_when_scraped(name: str) -> None:
    report(name, "relacja.orders", 3, PartitionProgress(0, 40, time.time() - 12))
    labels = {"consumer": name, "topic": "relacja.orders", "partition": "3"}
    assert REGISTRY.get_sample_value("relacja_consumer_lag", labels) == 40
    first = REGISTRY.get_sample_value("relacja_consumer_lag_seconds", labels)
    assert first is not None and first >= 12
    time.sleep(0.05)
    second = REGISTRY.get_sample_value("relacja_consumer_lag_seconds", labels)
    assert second is not None and second > first  # keeps growing while the consumer is stuck


def test_a_large_backlog_is_logged_every_interval_and_once_more_when_caught_up(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="relacja_messaging.backlog")
    backlog = BacklogLog(name, threshold=1000, interval=10)
    report(name, "relacja.orders", 0, PartitionProgress(0, 500, time.time() - 3))
    backlog.applied(100, now=0.0)
    assert caplog.messages == []  # below the threshold: nothing to say
    report(name, "relacja.orders", 0, PartitionProgress(500, 20_500, time.time() - 60))
    backlog.applied(500, now=1.0)
    assert caplog.messages == [f"{name}: digesting a backlog of 20000 events (60 s behind)"]
    report(name, "relacja.orders", 0, PartitionProgress(5_500, 20_500, time.time() - 50))
    backlog.applied(5_000, now=6.0)
    assert len(caplog.messages) == 1  # the next line is due 10 s after the first
    report(name, "relacja.orders", 0, PartitionProgress(10_500, 20_500, time.time() - 40))
    backlog.applied(5_000, now=11.0)
    assert caplog.messages[1] == f"{name}: 10000 events behind (40 s), applying 1000 events/s, about 10 s to go"
    report(name, "relacja.orders", 0, PartitionProgress(20_500, 20_500, None))
    backlog.applied(10_000, now=15.0)
    assert caplog.messages[2] == f"{name}: caught up after 14 s"
    backlog.applied(0, now=16.0)
    assert len(caplog.messages) == 3
