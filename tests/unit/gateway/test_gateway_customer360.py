"""The customer 360 view, composed by the gateway from services played by a mock transport."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from gateway_doubles import UPSTREAMS, Upstream

CUSTOMER = str(uuid.uuid4())
PROFILE = {"id": CUSTOMER, "display_name": "Anna Kowalska", "kind": "person"}
SEGMENTS = {"customer_id": CUSTOMER, "kind": "person", "lifecycle_stage": "lead"}
WITH_SHARING = UPSTREAMS | {"sharing": "http://sharing.internal:8106"}
TICKETS = {"open_tickets": [{"id": "t1"}], "last_satisfaction": 9}
RECOMMENDATIONS = {
    "customer_id": CUSTOMER,
    "personalised": True,
    "items": [{"sku": "LENS", "reason": "often bought with CAM"}],
}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def services(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == f"/api/v1/customers/{CUSTOMER}":
        return httpx.Response(200, json=PROFILE)
    if path == f"/api/v1/segmentation/customers/{CUSTOMER}":
        return httpx.Response(200, json=SEGMENTS)
    if path == f"/api/v1/tickets/customers/{CUSTOMER}/summary":
        return httpx.Response(200, json=TICKETS)
    if path == f"/api/v1/recommendations/customers/{CUSTOMER}/recommendations" and request.url.params["limit"] == "5":
        return httpx.Response(200, json=RECOMMENDATIONS)
    return httpx.Response(404, json={"status": 404})  # e.g. consents, not built yet


@pytest.fixture(autouse=True)
def the_services(upstream: Upstream) -> None:
    upstream.handler = services


async def test_every_allowed_part_is_fetched_and_the_rest_is_named(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    async with gateway() as client:
        response = await client.get(f"/api/v1/customers/{CUSTOMER}/360", headers=auth(token("admin")))
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["customer_id"] == CUSTOMER
    assert view["profile"] == PROFILE and view["segments"] == SEGMENTS and view["tickets"] == TICKETS
    assert view["consents"] is None and view["orders"] is None and view["churn"] is None
    assert sorted(view["missing"], key=lambda m: m["part"]) == [
        {"part": "churn", "reason": "service not deployed"},
        {"part": "disclosures", "reason": "service not deployed"},
        {"part": "engagement", "reason": "service not deployed"},
        {"part": "loyalty", "reason": "service not deployed"},
        {"part": "orders", "reason": "service not deployed"},
        {"part": "recommendations", "reason": "service not deployed"},
        {"part": "sales", "reason": "service not deployed"},
    ]
    assert view["empty"] == ["consents"]  # its service answered 404: nothing there, not a failure
    assert view["omitted"] == []
    assert response.headers["ratelimit"].startswith('"default";r=')


async def test_the_recommendations_part_is_the_top_five_with_reasons(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    with_recommendations = UPSTREAMS | {"recommendations": "http://recommendations.internal:8110"}
    async with gateway(upstreams=with_recommendations) as client:
        view = (await client.get(f"/api/v1/customers/{CUSTOMER}/360", headers=auth(token("admin")))).json()
    assert view["recommendations"] == RECOMMENDATIONS
    assert "recommendations" not in [m["part"] for m in view["missing"]]


async def test_only_parts_the_scopes_allow_are_fetched(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    async with gateway() as client:
        view = (await client.get(f"/api/v1/customers/{CUSTOMER}/360", headers=auth(token("customers:read")))).json()
    assert view["omitted"] == [
        "orders",
        "tickets",
        "segments",
        "churn",
        "disclosures",
        "loyalty",
        "recommendations",
        "sales",
        "engagement",
    ]
    assert view["missing"] == [] and view["empty"] == ["consents"]
    assert {request.url.host for request in upstream.requests} == {"customers.internal"}


async def test_the_view_itself_needs_customers_read(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    async with gateway() as client:
        assert (await client.get(f"/api/v1/customers/{CUSTOMER}/360")).status_code == 401
        assert (
            await client.get(f"/api/v1/customers/{CUSTOMER}/360", headers=auth(token("analytics:read")))
        ).status_code == 403
        bad = await client.get("/api/v1/customers/not-a-uuid/360", headers=auth(token("admin")))
    assert bad.status_code == 400 and bad.json()["type"] == "urn:relacja:problem:invalid-parameter"
    assert upstream.requests == []


async def test_a_slow_part_is_missing_and_the_rest_arrives_on_time(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    async def slow_segmentation(request: httpx.Request) -> httpx.Response:
        if request.url.host == "segmentation.internal":
            await asyncio.sleep(5)
        return services(request)

    upstream.handler = slow_segmentation
    async with gateway(customer360_part_timeout_seconds=0.05) as client:
        started = time.perf_counter()
        response = await client.get(f"/api/v1/customers/{CUSTOMER}/360", headers=auth(token("admin")))
        elapsed = time.perf_counter() - started
        metrics = (await client.get("/metrics")).text
    assert response.status_code == 200 and elapsed < 1.0
    view = response.json()
    assert {"part": "segments", "reason": "timed out after 50 ms"} in view["missing"]
    assert view["profile"] == PROFILE and view["tickets"] == TICKETS
    # a deadline is not a failure of the service: its circuit stays closed
    assert 'relacja_gateway_circuit_state{upstream="segmentation"} 0.0' in metrics


async def test_a_part_that_is_down_is_missing(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    def tickets_down(request: httpx.Request) -> httpx.Response:
        if request.url.host == "tickets.internal":
            raise httpx.ConnectError("[Errno 111] connect to tickets.internal:8103 refused")
        if request.url.host == "segmentation.internal":
            return httpx.Response(503, json={"status": 503})
        return services(request)

    upstream.handler = tickets_down
    async with gateway() as client:
        response = await client.get(f"/api/v1/customers/{CUSTOMER}/360", headers=auth(token("admin")))
    assert response.status_code == 200
    missing = {m["part"]: m["reason"] for m in response.json()["missing"]}
    assert missing["tickets"] == "service unavailable" and missing["segments"] == "service unavailable"
    assert "tickets.internal" not in response.text


async def test_the_profile_down_still_answers_200(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    def customers_down(request: httpx.Request) -> httpx.Response:
        if request.url.host == "customers.internal":
            raise httpx.ReadTimeout("timed out")
        return services(request)

    upstream.handler = customers_down
    async with gateway() as client:
        response = await client.get(f"/api/v1/customers/{CUSTOMER}/360", headers=auth(token("admin")))
    assert response.status_code == 200
    view = response.json()
    assert view["profile"] is None and {"part": "profile", "reason": "timed out"} in view["missing"]
    assert view["segments"] == SEGMENTS


async def test_an_unknown_customer_is_404(gateway: Callable[..., Any], token: Callable[..., str]) -> None:
    async with gateway() as client:
        response = await client.get(f"/api/v1/customers/{uuid.uuid4()}/360", headers=auth(token("admin")))
    assert response.status_code == 404 and response.json()["type"] == "urn:relacja:problem:not-found"


async def test_parts_are_asked_for_with_the_callers_identity(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    headers = {
        **auth(token("customers:read", "analytics:read", subject="alice")),
        "X-Relacja-Principal": "mallory",
        "X-Request-ID": "r-360",
    }
    async with gateway() as client:
        await client.get(f"/api/v1/customers/{CUSTOMER}/360", headers=headers)
    for request in upstream.requests:
        assert request.method == "GET"
        assert request.headers.get_list("x-relacja-principal") == ["alice"]
        assert request.headers["x-relacja-scopes"] == "analytics:read customers:read"
        assert request.headers["x-request-id"] == "r-360"
        assert "authorization" not in request.headers


async def test_parts_are_fetched_concurrently(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    async def each_takes_a_while(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.1)
        return services(request)

    upstream.handler = each_takes_a_while
    async with gateway(customer360_part_timeout_seconds=1.0) as client:
        started = time.perf_counter()
        response = await client.get(f"/api/v1/customers/{CUSTOMER}/360", headers=auth(token("admin")))
        elapsed = time.perf_counter() - started
    assert response.status_code == 200 and len(upstream.requests) == 4
    assert elapsed < 0.3  # four calls of 0.1 s each, side by side


async def test_the_disclosures_part_comes_from_sharing_with_sharing_read(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    disclosures = {"items": [{"partner_id": str(uuid.uuid4()), "channel": "feed"}], "next_cursor": None}

    def with_sharing(request: httpx.Request) -> httpx.Response:
        if request.url.path == f"/api/v1/customers/{CUSTOMER}/disclosures":
            assert request.url.host == "sharing.internal"
            return httpx.Response(200, json=disclosures)
        return services(request)

    upstream.handler = with_sharing
    upstreams = WITH_SHARING
    async with gateway(upstreams=upstreams) as client:
        allowed = (
            await client.get(f"/api/v1/customers/{CUSTOMER}/360", headers=auth(token("customers:read", "sharing:read")))
        ).json()
        without = (await client.get(f"/api/v1/customers/{CUSTOMER}/360", headers=auth(token("customers:read")))).json()
    assert allowed["disclosures"] == disclosures and "disclosures" not in allowed["omitted"]
    assert without["disclosures"] is None and "disclosures" in without["omitted"]
