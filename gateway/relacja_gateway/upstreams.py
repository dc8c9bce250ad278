"""Calling one service: circuit breaker, retries, timeouts and metrics in one place.

    Upstreams.send(service, build, retryable)
      breaker.acquire()?      no  → CircuitOpenError (the caller answers 503 + Retry-After)
      transport(build())          the route's timeout is on the request
        connect error         ─┐
        503 answer            ─┴─ retryable and budget left? → jittered pause, next attempt
        timeout, 502/503/504      count as failures for the breaker
      → the httpx.Response, body not read yet (``stream=True``)

Both the proxy and the customer 360 view call services through this, so a service whose
circuit is open is skipped everywhere at once. ``problem_for`` turns a failure into the
problem details a client sees: they name the service, never its address or a stack.

Metrics (Prometheus):

    relacja_gateway_upstream_responses_total{upstream, outcome}   status code or error class
    relacja_gateway_upstream_duration_seconds{upstream}            per attempt, until the headers
    relacja_gateway_upstream_retries_total{upstream}
    relacja_gateway_circuit_rejections_total{upstream}
    relacja_gateway_circuit_state{upstream}                        0 closed, 1 half-open, 2 open
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from prometheus_client import Counter, Gauge, Histogram

from relacja_servicekit.problems import Problem

from .breaker import BreakerConfig, BreakerState, CircuitBreaker
from .retries import RETRYABLE_STATUSES, RetryBudget, backoff_delay
from .settings import GatewaySettings

__all__ = ["CircuitOpenError", "Upstreams", "UpstreamState", "problem_for", "FAILURE_STATUSES", "UPSTREAM_RESPONSES"]

log = logging.getLogger(__name__)

#: Answers that say the service (not the request) is in trouble; they count against its circuit.
FAILURE_STATUSES = frozenset({502, 503, 504})

UPSTREAM_RESPONSES = Counter(
    "relacja_gateway_upstream_responses_total",
    "Responses (or failures) of upstream services, by outcome",
    ["upstream", "outcome"],
)
UPSTREAM_LATENCY = Histogram(
    "relacja_gateway_upstream_duration_seconds",
    "Time from sending a request to an upstream until its response headers, per attempt",
    ["upstream"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
UPSTREAM_RETRIES = Counter("relacja_gateway_upstream_retries_total", "Retried upstream calls", ["upstream"])
CIRCUIT_REJECTIONS = Counter(
    "relacja_gateway_circuit_rejections_total", "Calls refused by an open circuit", ["upstream"]
)
CIRCUIT_STATE = Gauge("relacja_gateway_circuit_state", "Circuit state: 0 closed, 1 half-open, 2 open", ["upstream"])
_STATE_VALUE = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


class CircuitOpenError(Exception):
    def __init__(self, service: str, retry_after: int) -> None:
        super().__init__(f"the circuit of {service} is open")
        self.service = service
        self.retry_after = retry_after


@dataclass
class UpstreamState:
    breaker: CircuitBreaker
    budget: RetryBudget
    state_gauge: Gauge = field(repr=False)

    def publish_state(self) -> None:
        self.state_gauge.set(_STATE_VALUE[self.breaker.state])


class Upstreams:
    """Per-service breaker and retry budget, and the one shared HTTP client.

    Requests are built with the client (its default timeout, URL handling) but handed
    straight to its transport: the client's own send path (auth flow, redirects, cookie
    extraction, a log line per request) does nothing the gateway wants and cost about a
    tenth of its CPU per proxied request (py-spy, docs/benchmarks.md)."""

    def __init__(
        self,
        settings: GatewaySettings,
        client: httpx.AsyncClient,
        transport: httpx.AsyncBaseTransport,
        *,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.client = client
        self.transport = transport
        self._clock = clock
        self._rand = rand
        self._sleep = sleep
        self._states: dict[str, UpstreamState] = {}
        self._breaker_config = BreakerConfig(
            consecutive_failures=settings.breaker_consecutive_failures,
            failure_rate=settings.breaker_failure_rate,
            minimum_calls=settings.breaker_minimum_calls,
            window_seconds=settings.breaker_window_seconds,
            open_seconds=settings.breaker_open_seconds,
        )

    def state(self, service: str) -> UpstreamState:
        state = self._states.get(service)
        if state is None:
            s = self.settings
            state = UpstreamState(
                breaker=CircuitBreaker(self._breaker_config, clock=self._clock),
                budget=RetryBudget(
                    s.retry_budget_ratio,
                    min_retries=s.retry_budget_min_retries,
                    window_seconds=s.retry_budget_window_seconds,
                    clock=self._clock,
                ),
                state_gauge=CIRCUIT_STATE.labels(service),
            )
            self._states[service] = state
        return state

    async def send(
        self, service: str, build: Callable[[], httpx.Request], *, retryable: bool
    ) -> tuple[httpx.Response, int]:
        """The upstream's response (streaming, not read) and how many retries it took.
        Raises ``CircuitOpenError`` or the last ``httpx.TransportError``."""
        upstream = self.state(service)
        breaker, budget = upstream.breaker, upstream.budget
        budget.record_request()
        retries = 0
        while True:
            if not breaker.acquire():
                upstream.publish_state()
                CIRCUIT_REJECTIONS.labels(service).inc()
                raise CircuitOpenError(service, breaker.retry_after())
            started = time.perf_counter()
            request = build()
            try:
                response = await self.transport.handle_async_request(request)
                response.request = request  # as the client would: errors and raise_for_status name it
            except httpx.PoolTimeout:
                breaker.release()  # the gateway's own pool was full: no news about the service
                UPSTREAM_RESPONSES.labels(service, "PoolTimeout").inc()
                raise
            except httpx.TransportError as exc:
                breaker.record(success=False)
                upstream.publish_state()
                UPSTREAM_RESPONSES.labels(service, type(exc).__name__).inc()
                log.warning("upstream %s failed: %s", service, type(exc).__name__)
                connect_failed = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
                if connect_failed and self._may_retry(retryable, retries, budget):
                    retries = await self._pause(service, retries)
                    continue
                raise
            except BaseException:
                breaker.release()  # cancelled: neither success nor failure
                raise
            UPSTREAM_LATENCY.labels(service).observe(time.perf_counter() - started)
            UPSTREAM_RESPONSES.labels(service, str(response.status_code)).inc()
            breaker.record(success=response.status_code not in FAILURE_STATUSES)
            upstream.publish_state()
            if response.status_code in RETRYABLE_STATUSES and self._may_retry(retryable, retries, budget):
                await response.aclose()
                retries = await self._pause(service, retries)
                continue
            return response, retries

    def _may_retry(self, retryable: bool, retries: int, budget: RetryBudget) -> bool:
        return retryable and retries < self.settings.retry_attempts and budget.try_spend()

    async def _pause(self, service: str, retries: int) -> int:
        UPSTREAM_RETRIES.labels(service).inc()
        s = self.settings
        await self._sleep(
            backoff_delay(retries, base=s.retry_backoff_seconds, cap=s.retry_backoff_max_seconds, rand=self._rand)
        )
        return retries + 1


def problem_for(exc: Exception, service: str, retry_after: int) -> Problem:
    """The client's view of a failed upstream call (RFC 9110 §15.6.3–15.6.5)."""
    if isinstance(exc, CircuitOpenError):
        return Problem(
            503,
            "Service unavailable",
            f"The {service} service is failing; the gateway is not calling it for now. Retry later.",
            type_="upstream-unavailable",
            headers={"Retry-After": str(exc.retry_after)},
        )
    retry = {"Retry-After": str(retry_after)}
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return Problem(
            503,
            "Service unavailable",
            f"The {service} service cannot be reached; retry later.",
            type_="upstream-unavailable",
            headers=retry,
        )
    if isinstance(exc, httpx.TimeoutException):
        return Problem(
            504,
            "Gateway timeout",
            f"The {service} service did not answer in time; retry later.",
            type_="upstream-timeout",
            headers=retry,
        )
    return Problem(502, "Bad gateway", f"The {service} service sent an invalid response.", type_="bad-gateway")
