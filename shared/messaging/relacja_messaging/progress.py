"""How far behind each consumer of this process is: its lag in events and in seconds.

Every ``EventConsumer`` reports here after each fetch, per partition it holds:

    lag_events    the partition's high watermark (from the broker's last fetch answer)
                  minus the consumer's next offset: records not yet applied
    lag_seconds   0 when ``lag_events`` is 0; else now − the broker timestamp of the
                  oldest record known to be waiting (the first record of the fetch being
                  applied, or the last record applied, which is at most one fetch older
                  than the one waiting next): how long the backlog has been waiting

The figures are exported as Prometheus gauges computed when scraped (so ``lag_seconds``
keeps growing while a consumer is stuck, which a value set after each fetch would not),
read by the freshness endpoint (``relacja_servicekit.freshness``) and watched by
:class:`BacklogLog`, which logs one line on the ``relacja_messaging.backlog`` logger
every ``interval`` seconds while a consumer's lag is at least ``threshold`` events (the
local stack's runner prints those lines), and one when it has caught up.

The registry holds the partitions *this process* consumes: with several replicas of a
service each knows its own share of the partitions.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["BacklogLog", "ConsumerLag", "PartitionProgress", "consumer_lag", "forget", "report"]

backlog_log = logging.getLogger("relacja_messaging.backlog")


@dataclass(frozen=True)
class PartitionProgress:
    next_offset: int
    highwater: int
    # Broker timestamp (seconds since the epoch) of the oldest record known to wait; None when none waits.
    waiting_since: float | None

    @property
    def lag_events(self) -> int:
        return max(0, self.highwater - self.next_offset)

    def lag_seconds(self, now: float) -> float:
        if self.lag_events == 0 or self.waiting_since is None:
            return 0.0
        return max(0.0, now - self.waiting_since)


@dataclass(frozen=True)
class ConsumerLag:
    """One consumer's lag on one topic, summed over the partitions this process holds."""

    consumer: str
    topic: str
    lag_events: int
    lag_seconds: float


# (consumer, topic, partition) -> progress
_progress: dict[tuple[str, str, int], PartitionProgress] = {}


def report(consumer: str, topic: str, partition: int, progress: PartitionProgress) -> None:
    _progress[(consumer, topic, partition)] = progress


def forget(consumer: str, keep: Iterable[tuple[str, int]] = ()) -> None:
    """Drop the consumer's partitions except ``keep`` ((topic, partition) it still holds)."""
    kept = set(keep)
    for key in [k for k in _progress if k[0] == consumer and (k[1], k[2]) not in kept]:
        del _progress[key]


def consumer_lag(consumer: str, topic: str) -> ConsumerLag | None:
    """The lag of ``consumer`` on ``topic`` in this process; None if it holds no partition of it (yet)."""
    now = time.time()
    mine = [p for (c, t, _), p in list(_progress.items()) if c == consumer and t == topic]
    if not mine:
        return None
    return ConsumerLag(consumer, topic, sum(p.lag_events for p in mine), max(p.lag_seconds(now) for p in mine))


class _LagCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        labels = ["consumer", "topic", "partition"]
        events = GaugeMetricFamily(
            "relacja_consumer_lag",
            "Records of a partition not yet applied by the consumer (high watermark minus next offset)",
            labels=labels,
        )
        seconds = GaugeMetricFamily(
            "relacja_consumer_lag_seconds",
            "How long the oldest record of the partition not yet applied has waited (0 when none waits)",
            labels=labels,
        )
        now = time.time()
        for (consumer, topic, partition), p in sorted(_progress.items()):
            events.add_metric([consumer, topic, str(partition)], p.lag_events)
            seconds.add_metric([consumer, topic, str(partition)], p.lag_seconds(now))
        yield events
        yield seconds


REGISTRY.register(_LagCollector())


class BacklogLog:
    """Logs a consumer's progress through a large backlog: one line per ``interval``, then "caught up"."""

    def __init__(self, consumer: str, *, threshold: int = 10_000, interval: float = 10.0) -> None:
        self.consumer = consumer
        self.threshold = threshold
        self.interval = interval
        self._since: float | None = None  # when the current backlog was first reported
        self._last_line = 0.0
        self._applied = 0  # records applied since the last line

    def applied(self, count: int, *, now: float | None = None) -> None:
        """Count ``count`` records applied; log if a line is due."""
        self._applied += count
        now = time.monotonic() if now is None else now
        lags = [p for (c, _, _), p in list(_progress.items()) if c == self.consumer]
        behind = sum(p.lag_events for p in lags)
        if self._since is None:
            if behind >= self.threshold:
                self._since, self._last_line, self._applied = now, now, 0
                seconds = max((p.lag_seconds(time.time()) for p in lags), default=0.0)
                backlog_log.info("%s: digesting a backlog of %d events (%.0f s behind)", self.consumer, behind, seconds)
            return
        if behind == 0:
            backlog_log.info("%s: caught up after %.0f s", self.consumer, now - self._since)
            self._since = None
            return
        if now - self._last_line >= self.interval:
            rate = self._applied / (now - self._last_line)
            seconds = max((p.lag_seconds(time.time()) for p in lags), default=0.0)
            eta = f", about {behind / rate:.0f} s to go" if rate > 0 else ""
            backlog_log.info(
                "%s: %d events behind (%.0f s), applying %.0f events/s%s", self.consumer, behind, seconds, rate, eta
            )
            self._last_line, self._applied = now, 0
