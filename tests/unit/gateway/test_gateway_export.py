"""The GDPR export through the gateway: the customers service's document with the
sharing service's disclosures added as one more area (services played by a mock transport)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from gateway_doubles import UPSTREAMS, Upstream

SHARING = "http://sharing.internal:8106"
WITH_SHARING = UPSTREAMS | {"sharing": SHARING}
CUSTOMER = str(uuid.uuid4())
EXPORT = {
    "format": "relacja.customer-export.v1",
    "customer": {"id": CUSTOMER},
    "related": {"consents": []},
    "events": [],
}
DISCLOSURES = [{"partner_id": str(uuid.uuid4()), "fields": ["total"], "n": n} for n in range(3)]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def services(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == f"/api/v1/customers/{CUSTOMER}/export":
        return httpx.Response(200, json=EXPORT, headers={"etag": '"3"'})
    if path == f"/api/v1/customers/{CUSTOMER}/disclosures":
        cursor = request.url.params.get("cursor")
        start = int(cursor) if cursor else 0  # two items per page, like a paged list
        page = DISCLOSURES[start : start + 2]
        more = start + 2 < len(DISCLOSURES)
        return httpx.Response(200, json={"items": page, "next_cursor": str(start + 2) if more else None})
    return httpx.Response(
        404, json={"status": 404, "title": "Not Found"}, headers={"content-type": "application/problem+json"}
    )


@pytest.fixture(autouse=True)
def the_services(upstream: Upstream) -> None:
    upstream.handler = services


async def test_the_export_lists_every_disclosure(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    async with gateway(upstreams=WITH_SHARING) as client:
        response = await client.get(
            f"/api/v1/customers/{CUSTOMER}/export", headers=auth(token("customers:read", "sharing:read"))
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["related"] == {"consents": [], "disclosures": DISCLOSURES}
    assert body["customer"] == EXPORT["customer"] and response.headers["etag"] == '"3"'
    pages = [r for r in upstream.requests if r.url.path.endswith("/disclosures")]
    assert [r.url.params.get("cursor") for r in pages] == [None, "2"]
    assert all(r.url.params["limit"] == "500" for r in pages)
    assert all(r.headers["x-relacja-principal"] == "user-1" for r in upstream.requests)


async def test_an_export_without_the_recipients_is_refused(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    async with gateway(upstreams=WITH_SHARING) as client:
        response = await client.get(f"/api/v1/customers/{CUSTOMER}/export", headers=auth(token("customers:read")))
        anonymous = await client.get(f"/api/v1/customers/{CUSTOMER}/export")
    assert response.status_code == 403 and response.json()["required_scope"] == "sharing:read"
    assert anonymous.status_code == 401
    assert upstream.requests == []


async def test_sharing_down_makes_the_export_503_never_a_partial_one(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    def sharing_down(request: httpx.Request) -> httpx.Response:
        if request.url.host == "sharing.internal":
            raise httpx.ConnectError("refused", request=request)
        return services(request)

    upstream.handler = sharing_down
    async with gateway(upstreams=WITH_SHARING, retry_attempts=0) as client:
        response = await client.get(f"/api/v1/customers/{CUSTOMER}/export", headers=auth(token("admin")))
    assert response.status_code == 503 and response.json()["type"] == "urn:relacja:problem:upstream-unavailable"
    assert int(response.headers["retry-after"]) >= 1


async def test_the_customers_answer_passes_through_when_it_is_not_an_export(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    async with gateway(upstreams=WITH_SHARING) as client:
        response = await client.get(f"/api/v1/customers/{uuid.uuid4()}/export", headers=auth(token("admin")))
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"
    assert [r.url.host for r in upstream.requests] == ["customers.internal"]


async def test_without_a_sharing_service_the_export_is_the_customers_one(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    async with gateway() as client:
        response = await client.get(f"/api/v1/customers/{CUSTOMER}/export", headers=auth(token("admin")))
    assert response.status_code == 200 and response.json() == EXPORT


async def test_sharing_knowing_nothing_of_the_customer_is_no_disclosures(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    def nothing_shared(request: httpx.Request) -> httpx.Response:
        if request.url.host == "sharing.internal":
            return httpx.Response(404, json={"status": 404})
        return services(request)

    upstream.handler = nothing_shared
    async with gateway(upstreams=WITH_SHARING) as client:
        response = await client.get(f"/api/v1/customers/{CUSTOMER}/export", headers=auth(token("admin")))
    assert response.json()["related"]["disclosures"] == []
