"""When the gateway calls an upstream again, and how long it waits first.

    retryable?   the method is idempotent (RFC 9110 §9.2.2: GET, HEAD, OPTIONS, PUT, DELETE)
                 AND the attempt failed to connect or the service answered 503
    budget?      RetryBudget.try_spend(): retries ≤ ratio × requests over a sliding window
                 (plus a few per window that are always allowed), per upstream
    how long?    backoff_delay(): "full jitter" — uniform in [0, min(cap, base × 2^attempt)]

Only idempotent requests are repeated, because a POST or PATCH that reached the service
may have taken effect even if its answer was lost. Connect errors are retried because
nothing reached the service; 503 because the service said it could not take the request
now. A timed-out read is not retried: the first attempt may still be running.

The budget keeps retries from multiplying load on a service that is already struggling
(a retry storm): with ratio 0.2 an upstream sees at most 1.2× the requests clients sent,
however many attempts each request may make (the retry budget of Finagle and Envoy).
Full jitter spreads the retries of many callers over time
(https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable

__all__ = ["IDEMPOTENT_METHODS", "RETRYABLE_STATUSES", "RetryBudget", "backoff_delay"]

# https://www.rfc-editor.org/rfc/rfc9110#section-9.2.2
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRYABLE_STATUSES = frozenset({503})


def backoff_delay(attempt: int, *, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry number ``attempt`` (0 for the first retry)."""
    return rand() * min(cap, base * (2**attempt))


class RetryBudget:
    """Counts requests and retries to one upstream over a sliding window of ``window_seconds``."""

    def __init__(
        self,
        ratio: float,
        *,
        min_retries: int = 3,
        window_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ratio = ratio
        self.min_retries = min_retries
        self.window_seconds = window_seconds
        self._clock = clock
        self._requests: deque[float] = deque()
        self._retries: deque[float] = deque()

    def record_request(self) -> None:
        """One request a client sent (not counting its retries)."""
        now = self._clock()
        self._requests.append(now)
        self._expire(now)

    def try_spend(self) -> bool:
        """Take one retry from the budget if there is one left in the window."""
        now = self._clock()
        self._expire(now)
        if len(self._retries) >= self.min_retries + int(self.ratio * len(self._requests) + 1e-9):
            return False
        self._retries.append(now)
        return True

    @property
    def counts(self) -> tuple[int, int]:
        """(requests, retries) in the current window."""
        self._expire(self._clock())
        return len(self._requests), len(self._retries)

    def _expire(self, now: float) -> None:
        horizon = now - self.window_seconds
        for stamps in (self._requests, self._retries):
            while stamps and stamps[0] < horizon:
                stamps.popleft()
