"""Token-bucket rate limiting: the pure limiter with a hand-driven clock, and the gateway's
429 answers and RateLimit headers (draft-ietf-httpapi-ratelimit-headers-10)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from gateway_doubles import Upstream, make_settings

from relacja_gateway.app import create_app
from relacja_gateway.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_allows_a_burst_then_refuses() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2, burst=3, clock=clock)
    decisions = [limiter.take("alice") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    refused = decisions[-1]
    assert refused.retry_after_seconds == 1  # one token takes 0.5 s at 2/s; whole seconds, rounded up
    assert refused.reset_seconds == 2  # 3 tokens at 2/s


def test_tokens_come_back_at_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1, burst=2, clock=clock)
    assert limiter.take("k").allowed and limiter.take("k").allowed and not limiter.take("k").allowed
    clock.now += 0.5
    assert not limiter.take("k").allowed
    clock.now += 0.5
    assert limiter.take("k").allowed
    clock.now += 100
    assert limiter.take("k").remaining == 1  # never more than the burst


def test_callers_have_their_own_buckets() -> None:
    limiter = RateLimiter(rate=1, burst=1, clock=Clock())
    assert limiter.take("alice").allowed
    assert not limiter.take("alice").allowed
    assert limiter.take("bob").allowed


def test_memory_is_bounded() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1, burst=5, clock=clock, max_keys=10)
    for i in range(50):
        limiter.take(f"ip:{i}")
    assert len(limiter) <= 10
    clock.now += 10  # every bucket refilled: they carry no information and go first
    limiter.take("new")
    assert len(limiter) == 1


def test_headers_use_the_structured_field_form() -> None:
    limiter = RateLimiter(rate=100 / 60, burst=100, clock=Clock())
    decision = limiter.take("k")
    headers = decision.headers()
    assert headers["RateLimit-Policy"] == '"default";q=100;w=60'
    assert headers["RateLimit"] == '"default";r=99;t=1'
    assert "Retry-After" not in headers


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (1, 0)])
def test_nonsense_limits_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        RateLimiter(rate=rate, burst=burst)


# -- through the gateway ------------------------------------------------------------------


async def test_429_with_retry_after_and_ratelimit_headers(upstream: Upstream, token: Callable[..., str]) -> None:
    clock = Clock()
    app = create_app(
        make_settings(rate_limit_rate=0.5, rate_limit_burst=2), transport=httpx.MockTransport(upstream), clock=clock
    )
    headers = {"Authorization": f"Bearer {token('customers:read', subject='alice')}"}
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            first = await client.get("/api/v1/customers/1", headers=headers)
            second = await client.get("/api/v1/customers/1", headers=headers)
            refused = await client.get("/api/v1/customers/1", headers=headers)
            other = await client.get(
                "/api/v1/customers/1", headers={"Authorization": f"Bearer {token('customers:read', subject='bob')}"}
            )
            clock.now += 2
            again = await client.get("/api/v1/customers/1", headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.headers["ratelimit"] == '"default";r=1;t=2'
    assert first.headers["ratelimit-policy"] == '"default";q=2;w=4'
    assert second.headers["ratelimit"] == '"default";r=0;t=4'
    assert refused.status_code == 429 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:relacja:problem:rate-limited"
    assert refused.headers["retry-after"] == "2"
    assert refused.headers["ratelimit"] == '"default";r=0;t=4'
    assert refused.headers["ratelimit-policy"] == '"default";q=2;w=4'
    assert other.status_code == 200  # bob has his own bucket
    assert again.status_code == 200
    assert len(upstream.requests) == 4


async def test_anonymous_callers_are_limited_by_client_address(gateway: Callable[..., Any], upstream: Upstream) -> None:
    async with gateway(rate_limit_rate=0.01, rate_limit_burst=1) as client:
        assert (await client.post("/api/v1/surveys/s1/answers", json={"score": 9})).status_code == 200
        response = await client.post("/api/v1/surveys/s1/answers", json={"score": 9})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "100"
    assert len(upstream.requests) == 1


async def test_rate_limiting_can_be_turned_off(gateway: Callable[..., Any], token: Callable[..., str]) -> None:
    async with gateway(rate_limit_enabled=False, rate_limit_burst=1) as client:
        for _ in range(3):
            response = await client.get("/api/v1/customers", headers={"Authorization": f"Bearer {token('admin')}"})
            assert response.status_code == 200 and "ratelimit" not in response.headers


async def test_unauthenticated_requests_are_refused_before_they_count(
    gateway: Callable[..., Any], token: Callable[..., str]
) -> None:
    async with gateway(rate_limit_rate=0.01, rate_limit_burst=1) as client:
        for _ in range(3):
            assert (await client.get("/api/v1/customers")).status_code == 401
        assert (
            await client.get("/api/v1/customers", headers={"Authorization": f"Bearer {token('admin')}"})
        ).status_code == 200
