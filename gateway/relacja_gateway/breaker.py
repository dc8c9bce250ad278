"""A circuit breaker per upstream: stop calling a service that keeps failing.

    CLOSED ──(N consecutive failures, or failure rate ≥ R over the window)──► OPEN
    OPEN   ──(cool-down over; the next call is let through as a trial)────► HALF_OPEN
    HALF_OPEN ──trial succeeds──► CLOSED (window cleared)
    HALF_OPEN ──trial fails─────► OPEN (a new cool-down)

While OPEN, ``acquire`` refuses at once and ``retry_after`` says how long the cool-down
still runs, so the gateway answers 503 with ``Retry-After`` without touching the service.
In HALF_OPEN exactly one trial is in flight; every other call is refused until it ends.

The caller decides what a failure is (the gateway: connect errors, timeouts, 502/503/504)
and reports every call it was allowed to make with ``record(success)``. Pure state with an
injected clock, so tests drive time by hand (after Nygard, "Release It!", ch. 5, and the
failure-rate window of resilience4j's CircuitBreaker).
"""

from __future__ import annotations

import enum
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["BreakerConfig", "BreakerState", "CircuitBreaker"]


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerConfig:
    consecutive_failures: int = 5
    failure_rate: float = 0.5
    minimum_calls: int = 20
    window_seconds: float = 10.0
    open_seconds: float = 5.0


class CircuitBreaker:
    def __init__(self, config: BreakerConfig = BreakerConfig(), *, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._consecutive = 0
        self._calls: deque[tuple[float, bool]] = deque()  # (time, failed) within the window
        self._failures_in_window = 0
        self._opened_at = 0.0
        self._trial_in_flight = False

    @property
    def state(self) -> BreakerState:
        """The state now: an OPEN circuit whose cool-down is over reads HALF_OPEN."""
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.config.open_seconds:
            return BreakerState.HALF_OPEN
        return self._state

    def acquire(self) -> bool:
        """May a call be made now? A True in HALF_OPEN makes that call the trial; every call
        acquired must be followed by ``record``."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._trial_in_flight:
            self._state = BreakerState.HALF_OPEN
            self._trial_in_flight = True
            return True
        return False

    def retry_after(self) -> int:
        """Whole seconds until a trial may be made (at least 1 while refusing)."""
        remaining = self.config.open_seconds - (self._clock() - self._opened_at)
        return max(1, math.ceil(remaining)) if self._state is not BreakerState.CLOSED else 0

    def record(self, success: bool) -> None:
        now = self._clock()
        if self._state is BreakerState.HALF_OPEN:
            self._trial_in_flight = False
            if success:
                self._close()
            else:
                self._open(now)
            return
        if self._state is BreakerState.OPEN:
            return  # a call that started before the circuit opened; the trial decides
        self._remember(now, failed=not success)
        self._consecutive = 0 if success else self._consecutive + 1
        if not success and self._should_open():
            self._open(now)

    def release(self) -> None:
        """The acquired call was not made after all (e.g. the client went away): a trial slot
        is given back without counting as success or failure."""
        if self._state is BreakerState.HALF_OPEN:
            self._trial_in_flight = False

    def _should_open(self) -> bool:
        cfg = self.config
        if self._consecutive >= cfg.consecutive_failures:
            return True
        calls = len(self._calls)
        return calls >= cfg.minimum_calls and self._failures_in_window / calls >= cfg.failure_rate

    def _remember(self, now: float, *, failed: bool) -> None:
        self._calls.append((now, failed))
        self._failures_in_window += failed
        horizon = now - self.config.window_seconds
        while self._calls and self._calls[0][0] < horizon:
            _, old_failed = self._calls.popleft()
            self._failures_in_window -= old_failed

    def _open(self, now: float) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = now

    def _close(self) -> None:
        self._state = BreakerState.CLOSED
        self._consecutive = 0
        self._calls.clear()
        self._failures_in_window = 0
