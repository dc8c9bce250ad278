"""When to try again, and when to give up on an endpoint — pure rules over plain values.

    RetryPolicy        the schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h after each failure),
                       its ±10 % jitter, the 5-day disabling window; ``compressed()`` for tests
    Outcome            succeeded | failed | gone — what one response means
    classify()         status code (or none: no response) → Outcome
    parse_retry_after() RFC 9110 §10.2.3: delta-seconds or an HTTP-date
    refill()           the per-endpoint token bucket behind the rate limit

The schedule is Svix's and the Standard Webhooks guidance's: eight attempts over ~27.5 h.
Retry-After (429 and 503 only, as RFC 9110 and RFC 6585 give it meaning there) moves the next
attempt later, never earlier, and is capped at the schedule's longest delay so a receiver cannot
park a message for a week. The clock is always a parameter: tests pass their own.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

__all__ = [
    "DEFAULT_DELAYS",
    "Outcome",
    "RetryPolicy",
    "classify",
    "parse_retry_after",
    "refill",
]

DEFAULT_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)

_RETRY_AFTER_STATUSES = frozenset({429, 503})


class Outcome(enum.StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    GONE = "gone"


def classify(status_code: int | None) -> Outcome:
    """2xx succeeds; 410 Gone disables the endpoint at once; everything else (3xx too:
    redirects are never followed, no response at all) is a failure to retry."""
    if status_code is not None and 200 <= status_code < 300:
        return Outcome.SUCCEEDED
    if status_code == 410:
        return Outcome.GONE
    return Outcome.FAILED


def parse_retry_after(status_code: int | None, value: str | None, now: datetime) -> timedelta | None:
    if status_code not in _RETRY_AFTER_STATUSES or not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(when - now, timedelta(0))


@dataclass(frozen=True)
class RetryPolicy:
    delays: Sequence[timedelta] = DEFAULT_DELAYS
    jitter: float = 0.1
    disable_after: timedelta = timedelta(days=5)
    random: Callable[[], float] = field(default=random.random, compare=False)

    def compressed(self, factor: float) -> RetryPolicy:
        """The same schedule ``factor`` times faster (tests: 1/1000 turns 5 s into 5 ms)."""
        return replace(self, delays=tuple(d * factor for d in self.delays), disable_after=self.disable_after * factor)

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    def next_attempt_at(self, failures: int, now: datetime, retry_after: timedelta | None = None) -> datetime | None:
        """After ``failures`` failed attempts in a row: when to try again, or None to give up."""
        if failures < 1 or failures > len(self.delays):
            return None
        base = self.delays[failures - 1]
        delay = base * (1 + self.jitter * (2 * self.random() - 1))
        if retry_after is not None:
            delay = max(delay, min(retry_after, max(self.delays)))
        return now + delay

    def should_disable(self, failing_since: datetime | None, now: datetime) -> bool:
        """An endpoint that has failed every attempt since ``failing_since`` for the whole window."""
        return failing_since is not None and now - failing_since >= self.disable_after


def refill(
    tokens: float, refilled_at: datetime | None, rate_per_second: int | None, now: datetime
) -> tuple[float, int]:
    """Token bucket holding at most one second of ``rate``: the tokens now and how many whole
    sends they allow (unlimited → a large number). The caller stores ``tokens - sent``."""
    if rate_per_second is None:
        return math.inf, 1 << 30
    elapsed = 0.0 if refilled_at is None else max((now - refilled_at).total_seconds(), 0.0)
    available = (
        float(rate_per_second) if refilled_at is None else min(rate_per_second, tokens + elapsed * rate_per_second)
    )
    return available, math.floor(available)
