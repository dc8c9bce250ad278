"""The circuit breaker as a pure state machine, time driven by hand."""

from __future__ import annotations

from relacja_gateway.breaker import BreakerConfig, BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, **config: float) -> CircuitBreaker:
    values = {
        "consecutive_failures": 3,
        "failure_rate": 0.5,
        "minimum_calls": 10,
        "window_seconds": 10.0,
        "open_seconds": 5.0,
    }
    values.update(config)
    return CircuitBreaker(BreakerConfig(**values), clock=clock)  # type: ignore[arg-type]  # the config's int and float fields, from one dict of overrides


def state(b: CircuitBreaker) -> BreakerState:
    # Read through a call: mypy keeps `b.state` narrowed by one assert across the calls
    # (fail, succeed, record) that change it, and would call the next assert impossible.
    return b.state


def fail(b: CircuitBreaker, times: int = 1) -> None:
    for _ in range(times):
        assert b.acquire()
        b.record(success=False)


def succeed(b: CircuitBreaker, times: int = 1) -> None:
    for _ in range(times):
        assert b.acquire()
        b.record(success=True)


def test_opens_after_consecutive_failures_and_refuses_at_once() -> None:
    clock = Clock()
    b = breaker(clock)
    fail(b, 2)
    assert state(b) is BreakerState.CLOSED
    fail(b)
    assert state(b) is BreakerState.OPEN
    assert not b.acquire()
    assert b.retry_after() == 5
    clock.now += 3.2
    assert b.retry_after() == 2


def test_a_success_resets_the_consecutive_count() -> None:
    b = breaker(Clock())
    fail(b, 2)
    succeed(b)
    fail(b, 2)
    assert state(b) is BreakerState.CLOSED


def test_opens_on_the_failure_rate_once_enough_calls_were_seen() -> None:
    b = breaker(Clock(), consecutive_failures=100)
    for _ in range(4):
        fail(b)
        succeed(b)
    assert state(b) is BreakerState.CLOSED  # 50 % but only 8 calls
    fail(b)
    succeed(b)
    assert state(b) is BreakerState.CLOSED  # 10 calls, 5 failures, but the last call succeeded
    fail(b)
    assert state(b) is BreakerState.OPEN  # 11 calls, 6 failures


def test_old_calls_leave_the_window() -> None:
    clock = Clock()
    b = breaker(clock, consecutive_failures=100, minimum_calls=4)
    fail(b, 2)
    succeed(b)
    clock.now += 11  # the two failures are forgotten
    succeed(b, 3)
    fail(b)
    assert state(b) is BreakerState.CLOSED  # 1 failure in 4 calls


def test_half_open_lets_one_trial_through_and_closes_on_success() -> None:
    clock = Clock()
    b = breaker(clock)
    fail(b, 3)
    clock.now += 5
    assert state(b) is BreakerState.HALF_OPEN
    assert b.acquire()  # the trial
    assert not b.acquire()  # everyone else waits for it
    b.record(success=True)
    assert state(b) is BreakerState.CLOSED
    assert b.acquire()
    b.record(success=False)
    assert state(b) is BreakerState.CLOSED  # the count started over


def test_a_failed_trial_opens_again_for_a_new_cool_down() -> None:
    clock = Clock()
    b = breaker(clock)
    fail(b, 3)
    clock.now += 6
    assert b.acquire()
    b.record(success=False)
    assert state(b) is BreakerState.OPEN
    assert b.retry_after() == 5
    clock.now += 5
    assert b.acquire()


def test_a_released_trial_frees_the_slot() -> None:
    clock = Clock()
    b = breaker(clock)
    fail(b, 3)
    clock.now += 5
    assert b.acquire()
    b.release()
    assert b.acquire()


def test_late_answers_of_calls_made_before_opening_change_nothing() -> None:
    clock = Clock()
    b = breaker(clock)
    assert b.acquire()  # a slow call starts
    fail(b, 3)
    b.record(success=True)  # ... and succeeds after the circuit opened
    assert state(b) is BreakerState.OPEN
