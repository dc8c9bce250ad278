"""Circuit breakers per upstream, per-route timeouts and what the gateway records about
each call (access log, metrics), with the services played by a mock transport."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from gateway_doubles import WITH_ORDERS, Upstream, make_settings

from relacja_gateway.app import create_app

BREAKER = {"breaker_consecutive_failures": 3, "breaker_open_seconds": 5.0, "retry_attempts": 0}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def started(upstream: Upstream, clock: Clock, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(**settings), transport=httpx.MockTransport(upstream), clock=clock)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            yield client


async def test_an_open_circuit_answers_503_at_once_and_other_upstreams_keep_working(
    upstream: Upstream, token: Callable[..., str]
) -> None:
    segmentation_up = False

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "segmentation.internal" and not segmentation_up:
            raise httpx.ConnectError("[Errno 111] connect to segmentation.internal:8102 refused")
        return httpx.Response(200, json={"ok": True})

    upstream.handler = answer
    clock = Clock()
    headers = auth(token("admin"))
    async for client in started(upstream, clock, **BREAKER):
        for _ in range(3):
            assert (await client.get("/api/v1/segmentation/customers/1", headers=headers)).status_code == 503
        calls = len(upstream.requests)
        refused = await client.get("/api/v1/segmentation/customers/1", headers=headers)
        assert len(upstream.requests) == calls  # not called at all
        assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
        assert refused.json()["type"] == "urn:relacja:problem:upstream-unavailable"
        assert "segmentation.internal" not in refused.text and "8102" not in refused.text
        assert (await client.get("/api/v1/customers/1", headers=headers)).status_code == 200

        clock.now += 2
        assert (await client.get("/api/v1/segmentation/customers/1", headers=headers)).headers["retry-after"] == "3"
        clock.now += 3  # cool-down over: one trial, which succeeds and closes the circuit
        segmentation_up = True
        assert (await client.get("/api/v1/segmentation/customers/1", headers=headers)).status_code == 200
        assert (await client.get("/api/v1/segmentation/customers/1", headers=headers)).status_code == 200
        metrics = (await client.get("/metrics")).text
    assert 'relacja_gateway_circuit_state{upstream="segmentation"} 0.0' in metrics
    assert 'relacja_gateway_circuit_rejections_total{upstream="segmentation"}' in metrics


async def test_503_answers_and_timeouts_count_against_the_circuit(
    upstream: Upstream, token: Callable[..., str]
) -> None:
    answers = iter([httpx.Response(503, json={}), httpx.Response(504, json={})])

    def answer(request: httpx.Request) -> httpx.Response:
        response = next(answers, None)
        if response is None:
            raise httpx.ReadTimeout("timed out")
        return response

    upstream.handler = answer
    async for client in started(upstream, Clock(), **BREAKER):
        statuses = [
            (await client.get("/api/v1/customers/1", headers=auth(token("admin")))).status_code for _ in range(4)
        ]
    assert statuses == [503, 504, 504, 503]
    assert len(upstream.requests) == 3


async def test_client_errors_do_not_open_the_circuit(upstream: Upstream, token: Callable[..., str]) -> None:
    upstream.handler = lambda request: httpx.Response(404, json={})
    async for client in started(upstream, Clock(), **BREAKER):
        for _ in range(5):
            assert (await client.get("/api/v1/customers/1", headers=auth(token("admin")))).status_code == 404
    assert len(upstream.requests) == 5


async def test_routes_carry_their_own_timeouts(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    async with gateway(upstream_timeout_seconds=3.0) as client:
        await client.get("/api/v1/customers/1", headers=auth(token("admin")))
        assert upstream.last.extensions["timeout"]["read"] == 3.0
        await client.post("/api/v1/customers/imports", headers=auth(token("admin")), json={})
        assert upstream.last.extensions["timeout"]["read"] == 120.0  # the BULK profile's default
    async with gateway(upstream_timeout_seconds=3.0, bulk_timeout_seconds=300.0, upstreams=WITH_ORDERS) as client:
        for path in ("/api/v1/customers/imports", "/api/v1/orders/imports"):
            await client.post(path, headers=auth(token("admin")), json={})
            assert upstream.last.extensions["timeout"]["read"] == 300.0
        await client.post("/api/v1/orders", headers=auth(token("admin")), json={})
        assert upstream.last.extensions["timeout"]["read"] == 3.0


async def test_the_access_log_names_principal_route_upstream(
    gateway: Callable[..., Any], token: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="relacja.access")
    async with gateway() as client:
        await client.get("/api/v1/customers/42", headers=auth(token("customers:read", subject="alice")))
        await client.get("/api/v1/orders/1", headers=auth(token("customers:read", subject="alice")))
    ok, forbidden = [r for r in caplog.records if r.name == "relacja.access"][-2:]
    # The access-log fields arrive as LogRecord extras, which the type checker cannot see.
    fields = ("principal", "route", "status", "upstream", "upstream_outcome")
    assert tuple(getattr(ok, name) for name in fields) == ("alice", "/api/v1/customers", 200, "customers", 200)
    assert ok.latency_ms >= 0 and ok.retries == 0  # type: ignore[attr-defined]  # access-log fields arrive as LogRecord extras
    assert (forbidden.route, forbidden.status) == ("/api/v1/orders", 403)  # type: ignore[attr-defined]  # access-log fields arrive as LogRecord extras


async def test_metrics_per_route_and_upstream(gateway: Callable[..., Any], token: Callable[..., str]) -> None:
    async with gateway() as client:
        await client.get("/api/v1/segmentation/customers/1", headers=auth(token("admin")))
        metrics = (await client.get("/metrics")).text
    assert 'relacja_http_requests_total{method="GET",route="/api/v1/segmentation",status="200"}' in metrics
    assert 'relacja_gateway_upstream_duration_seconds_count{upstream="segmentation"}' in metrics
