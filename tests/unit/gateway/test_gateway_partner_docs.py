"""The partners' documentation: /partner/openapi.json holds the /partner/v1 operations and
nothing of the staff API (and the staff document nothing of the partner API), the records
and the webhook; /partner/docs loads only from the gateway. The browser check is in
tests/e2e/test_docs_browser.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from gateway_doubles import UPSTREAMS, Page, Upstream, local_refs, resolves, same_origin
from openapi_spec_validator import validate

from relacja_contracts import EVENT_TYPES
from relacja_gateway.docs import ASSETS_PATH
from relacja_gateway.partner_docs import (
    NOT_SHARED_FIELDS,
    NOT_SHARED_TYPES,
    NOTICE_TYPES,
    RETRY_SCHEDULE,
    SHARED_TOPICS,
    partner_gateway_document,
)
from relacja_sharing.app.catalog import CATALOG
from relacja_sharing.app.catalog import SHARED_TOPICS as CATALOG_TOPICS
from relacja_sharing.app.fanout import ERASURE_TYPE, RECTIFICATION_TYPE, TOMBSTONE_TYPE
from relacja_sharing.domain.agreements import NEVER_SHARED
from relacja_webhooks.schedule import DEFAULT_DELAYS

SHARING = "http://sharing.internal:8106"


def op(op_id: str) -> dict[str, Any]:
    return {
        "operationId": op_id,
        "parameters": [{"name": "agreement_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}},
            }
        },
    }


SHARING_DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "sharing", "version": "1"},
    "paths": {
        "/partner/v1/feeds/{agreement_id}/events": {"get": op("read_feed")},
        "/api/v1/sharing/agreements/{agreement_id}": {"get": op("get_agreement")},
        "/internal/v1/partner-credentials/introspect": {"post": {"operationId": "introspect", "responses": {}}},
    },
    "components": {"schemas": {"Page": {"type": "object"}}},
}


def services(request: httpx.Request) -> httpx.Response:
    if request.url.host == "sharing.internal":
        return httpx.Response(200, json=SHARING_DOCUMENT)
    return httpx.Response(200, json={"openapi": "3.1.0", "info": {"title": "x", "version": "1"}, "paths": {}})


async def test_each_audience_sees_only_its_own_operations(gateway: Callable[..., Any], upstream: Upstream) -> None:
    upstream.handler = services
    async with gateway(upstreams=UPSTREAMS | {"sharing": SHARING}) as client:
        staff = (await client.get("/openapi.json")).json()
        partner = (await client.get("/partner/openapi.json")).json()
    assert "/api/v1/sharing/agreements/{agreement_id}" in staff["paths"]
    assert not [path for path in staff["paths"] if path.startswith("/partner")]
    assert "partnerAuth" not in staff["components"]["securitySchemes"]
    assert list(partner["paths"]) == ["/partner/v1/feeds/{agreement_id}/events"]  # no /api/v1, no /internal
    feed = partner["paths"]["/partner/v1/feeds/{agreement_id}/events"]["get"]
    assert feed["security"] == [{"partnerAuth": []}]
    assert feed["responses"]["401"] == {"$ref": "#/components/responses/PartnerUnauthorized"}
    assert feed["responses"]["429"] == {"$ref": "#/components/responses/TooManyRequests"}
    assert list(partner["components"]["securitySchemes"]) == ["partnerAuth"]
    assert partner["info"]["x-missing-services"] == []
    assert all(resolves(partner, ref) for ref in local_refs(partner))
    validate(partner)


async def test_the_partner_document_has_the_records_the_webhook_and_the_prose(
    gateway: Callable[..., Any], upstream: Upstream
) -> None:
    upstream.handler = lambda request: httpx.Response(503)
    async with gateway(upstreams=UPSTREAMS | {"sharing": SHARING}) as client:
        partner = (await client.get("/partner/openapi.json")).json()
    assert partner["info"]["x-missing-services"] == ["sharing"]
    webhook = partner["webhooks"]["record"]["post"]
    assert {p["name"] for p in webhook["parameters"]} == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    schemas = partner["components"]["schemas"]
    data = schemas["PartnerEvent"]["properties"]["data"]["anyOf"]
    documented = set(CATALOG) | set(NOTICE_TYPES)
    assert len(data) == len(documented) + 1
    for event_type in documented:
        key = event_type.replace(".", "_")
        assert {"$ref": f"#/components/schemas/{key}"} in data
        assert "required" not in schemas[key]  # any field may be left out by an allow-list
        assert not NEVER_SHARED & set(schemas[key].get("properties", {}))
    assert "relacja_customers_consent_granted_v1" not in schemas and "relacja_orders_order_placed_v1" in schemas
    assert not any(key.startswith("relacja_churn") for key in schemas)  # not shareable
    description = partner["info"]["description"]
    assert "from standardwebhooks import Webhook" in description and "webhook.verify(body, headers)" in description
    assert "5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h" in description
    assert all(resolves(partner, ref) for ref in local_refs(partner))
    validate(partner)


def test_what_the_docs_say_is_shared_is_what_sharing_shares() -> None:
    assert {topic.name for topic in CATALOG_TOPICS} == set(SHARED_TOPICS)
    assert {t for t, m in EVENT_TYPES.items() if m.topic.name in SHARED_TOPICS} - NOT_SHARED_TYPES == set(CATALOG)
    assert NOT_SHARED_FIELDS == NEVER_SHARED
    assert set(NOTICE_TYPES) == {TOMBSTONE_TYPE, ERASURE_TYPE, RECTIFICATION_TYPE}


def test_the_documented_retry_schedule_is_the_senders() -> None:
    assert tuple(int(delay.total_seconds()) for delay in DEFAULT_DELAYS) == RETRY_SCHEDULE


def test_the_partner_gateway_document_is_a_fresh_copy() -> None:
    first = partner_gateway_document()
    first["components"]["schemas"].clear()
    assert partner_gateway_document()["components"]["schemas"]


async def test_partner_docs_load_only_from_the_gateway(gateway: Callable[..., Any], upstream: Upstream) -> None:
    async with gateway() as client:
        page = await client.get("/partner/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    urls = Page(page.text).urls
    assert urls and all(same_origin(url) for url in urls), urls
    assert {f"{ASSETS_PATH}/swagger-ui-bundle.js", f"{ASSETS_PATH}/swagger-ui.css"} <= set(urls)
    assert "url: '/partner/openapi.json'" in page.text and "'/openapi.json'" not in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert upstream.requests == []
