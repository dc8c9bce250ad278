"""Retries: the budget and the backoff as pure code, and the gateway retrying only
idempotent requests, only on connect errors and 503, within the budget."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from gateway_doubles import Upstream

from relacja_gateway.retries import RetryBudget, backoff_delay


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_budget_allows_a_share_of_the_requests() -> None:
    clock = Clock()
    budget = RetryBudget(0.2, min_retries=0, window_seconds=10, clock=clock)
    for _ in range(50):
        budget.record_request()
    spent = sum(budget.try_spend() for _ in range(30))
    assert spent == 10  # 20 % of 50
    assert budget.counts == (50, 10)


def test_a_few_retries_are_always_allowed_and_the_window_slides() -> None:
    clock = Clock()
    budget = RetryBudget(0.2, min_retries=2, window_seconds=10, clock=clock)
    budget.record_request()
    assert budget.try_spend() and budget.try_spend() and not budget.try_spend()
    clock.now += 10.5
    assert budget.counts == (0, 0)
    assert budget.try_spend()


def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    assert backoff_delay(0, base=0.1, cap=1.0, rand=lambda: 1.0) == pytest.approx(0.1)
    assert backoff_delay(3, base=0.1, cap=1.0, rand=lambda: 1.0) == pytest.approx(0.8)
    assert backoff_delay(6, base=0.1, cap=1.0, rand=lambda: 1.0) == pytest.approx(1.0)
    assert backoff_delay(6, base=0.1, cap=1.0, rand=lambda: 0.25) == pytest.approx(0.25)
    assert backoff_delay(2, base=0.1, cap=1.0, rand=lambda: 0.0) == 0.0


# -- through the gateway ------------------------------------------------------------------

FAST = {"retry_backoff_seconds": 0.0, "retry_budget_min_retries": 100}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refuse_connections(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] connection refused")


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
async def test_idempotent_requests_are_retried_on_connect_errors(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str], method: str
) -> None:
    upstream.handler = refuse_connections
    async with gateway(retry_attempts=2, **FAST) as client:
        response = await client.request(method, "/api/v1/customers/1", headers=auth(token("admin")))
    assert response.status_code == 503
    assert len(upstream.requests) == 3


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_other_methods_are_never_retried(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str], method: str
) -> None:
    upstream.handler = refuse_connections
    async with gateway(retry_attempts=2, **FAST) as client:
        assert (
            await client.request(method, "/api/v1/customers", headers=auth(token("admin")), json={})
        ).status_code == 503
    upstream.handler = lambda request: httpx.Response(503, json={})
    async with gateway(retry_attempts=2, **FAST) as client:
        assert (
            await client.request(method, "/api/v1/customers", headers=auth(token("admin")), json={})
        ).status_code == 503
    assert len(upstream.requests) == 2


async def test_a_503_is_retried_and_the_body_is_sent_again(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    answers = iter([httpx.Response(503, json={}), httpx.Response(200, json={"ok": 1})])
    upstream.handler = lambda request: next(answers)
    async with gateway(**FAST) as client:
        response = await client.put("/api/v1/customers/1", headers=auth(token("admin")), json={"display_name": "Ada"})
    assert response.status_code == 200 and response.json() == {"ok": 1}
    assert [r.content for r in upstream.requests] == [b'{"display_name":"Ada"}'] * 2


@pytest.mark.parametrize(
    "answer", [httpx.Response(500, json={}), httpx.Response(502, json={}), httpx.Response(404, json={})]
)
async def test_other_answers_are_not_retried(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str], answer: httpx.Response
) -> None:
    upstream.handler = lambda request: answer
    async with gateway(**FAST) as client:
        assert (await client.get("/api/v1/customers/1", headers=auth(token("admin")))).status_code == answer.status_code
    assert len(upstream.requests) == 1


async def test_a_read_timeout_is_not_retried(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out")

    upstream.handler = slow
    async with gateway(**FAST) as client:
        assert (await client.get("/api/v1/customers/1", headers=auth(token("admin")))).status_code == 504
    assert len(upstream.requests) == 1


async def test_retries_stop_when_the_budget_is_spent(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    upstream.handler = lambda request: httpx.Response(503, json={})
    settings = {
        "retry_backoff_seconds": 0.0,
        "retry_budget_ratio": 0.2,
        "retry_budget_min_retries": 0,
        "retry_attempts": 5,
        "breaker_consecutive_failures": 1000,
        "breaker_failure_rate": 1.0,
        "breaker_minimum_calls": 1000,
    }
    async with gateway(**settings) as client:
        for _ in range(20):
            await client.get("/api/v1/customers/1", headers=auth(token("admin")))
    retries = len(upstream.requests) - 20
    assert 0 < retries <= 4  # 20 % of 20 requests
