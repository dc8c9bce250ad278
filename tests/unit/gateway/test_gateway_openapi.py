"""The merged OpenAPI document: pure merging of small fixture documents, and the gateway
serving it (fetched from services played by a mock transport)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import httpx
from gateway_doubles import Upstream, make_settings
from openapi_spec_validator import validate

from relacja_gateway.app import create_app
from relacja_gateway.openapi import merge_documents
from relacja_gateway.routes import ROUTES, RouteTable

TABLE = RouteTable(ROUTES)

VALIDATION_ERROR = {"type": "object", "properties": {"detail": {"type": "string"}}}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def operation(op_id: str, schema: str | None = None) -> dict[str, Any]:
    content = {"application/json": {"schema": ref(schema)}} if schema else {"application/json": {}}
    return {"operationId": op_id, "responses": {"200": {"description": "OK", "content": content}}}


def with_path_parameters(document: dict[str, Any]) -> dict[str, Any]:
    """Declare every ``{name}`` of a path on its operations, as a real document would."""
    for path, item in document["paths"].items():
        names = [segment[1:-1] for segment in path.split("/") if segment.startswith("{")]
        for op in item.values():
            op["parameters"] = [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in names
            ]
    return document


def gateway_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Relacja API", "version": "0.1.0"},
        "paths": {
            "/healthz": {"get": operation("healthz", "HealthStatus")},
            "/api/v1/customers/{customer_id}/360": {"get": operation("customer_360", "Customer360")},
        },
        "components": {"schemas": {"HealthStatus": {"type": "object"}, "Customer360": {"type": "object"}}},
    }


def customers_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "customers", "version": "1"},
        "tags": [{"name": "customers"}],
        "paths": {
            "/healthz": {"get": operation("healthz", "HealthStatus")},
            "/api/v1/customers": {
                "get": operation("list_customers", "Customers"),
                "post": operation("create_customer", "Customer"),
            },
            "/api/v1/customers/{customer_id}": {"get": operation("get_customer", "Customer")},
            "/api/v1/segmentation/stolen": {"get": operation("not_mine")},
        },
        "components": {
            "schemas": {
                "HealthStatus": {"type": "object"},
                "Customers": {"type": "object", "properties": {"items": {"type": "array", "items": ref("Customer")}}},
                "Customer": {"type": "object", "properties": {"id": {"type": "string"}}},
                "HTTPValidationError": VALIDATION_ERROR,
                "Unused": {"type": "string"},
            }
        },
    }


def segmentation_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "segmentation", "version": "1"},
        "tags": [{"name": "segmentation"}],
        "paths": {
            "/api/v1/segmentation/customers/{customer_id}": {"get": operation("get_profile", "Envelope")},
            "/api/v1/customers": {"get": operation("shadow")},  # routed to customers, not here
        },
        "components": {
            "schemas": {
                "Customer": {"type": "object", "properties": {"segment": {"type": "string"}}},  # same name, other thing
                "Envelope": {
                    "type": "object",
                    "properties": {"customer": ref("Customer"), "error": ref("HTTPValidationError")},
                },
                "HTTPValidationError": VALIDATION_ERROR,  # identical: kept once
            }
        },
    }


def merged(**kwargs: Any) -> dict[str, Any]:
    services = {
        "customers": with_path_parameters(customers_document()),
        "segmentation": with_path_parameters(segmentation_document()),
    }
    return merge_documents(with_path_parameters(gateway_document()), services, TABLE, **kwargs)


def test_paths_are_the_routed_ones_plus_the_gateways_own() -> None:
    document = merged()
    assert sorted(document["paths"]) == [
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
        "/api/v1/customers/{customer_id}/360",
        "/api/v1/segmentation/customers/{customer_id}",
        "/healthz",
    ]
    assert document["paths"]["/api/v1/customers"]["get"]["operationId"] == "list_customers"  # not segmentation's shadow
    assert document["paths"]["/healthz"]["get"]["operationId"] == "healthz"
    assert document["paths"]["/api/v1/customers"]["get"]["x-relacja-service"] == "customers"


def test_security_follows_the_route_table() -> None:
    document = merged()
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": document["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    paths = document["paths"]
    assert paths["/api/v1/customers"]["get"]["security"] == [{"bearerAuth": ["customers:read"]}]
    assert paths["/api/v1/customers"]["post"]["security"] == [{"bearerAuth": ["customers:write"]}]
    assert paths["/api/v1/segmentation/customers/{customer_id}"]["get"]["security"] == [
        {"bearerAuth": ["analytics:read"]}
    ]
    assert paths["/api/v1/customers/{customer_id}/360"]["get"]["security"] == [{"bearerAuth": ["customers:read"]}]
    assert paths["/healthz"]["get"]["security"] == []
    responses = paths["/api/v1/customers"]["get"]["responses"]
    assert responses["401"] == {"$ref": "#/components/responses/Unauthorized"}
    assert responses["429"] == {"$ref": "#/components/responses/TooManyRequests"}
    assert "429" not in paths["/healthz"]["get"]["responses"]


def test_a_composed_operation_documents_every_scope_it_needs() -> None:
    """The GDPR export needs customers:read (its route) and sharing:read (the gateway adds
    the disclosures): one requirement listing both, as OpenAPI 3.1 says "all of these"."""
    export = {"/api/v1/customers/{customer_id}/export": {"get": operation("export")}}
    customers = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": export}
    document = merge_documents(gateway_document(), {"customers": customers}, TABLE)
    assert document["paths"]["/api/v1/customers/{customer_id}/export"]["get"]["security"] == [
        {"bearerAuth": ["customers:read", "sharing:read"]}
    ]


def test_public_routes_need_no_token() -> None:
    paths = {"/api/v1/surveys/{token}": {"post": operation("answer")}, "/api/v1/surveys": {"post": operation("issue")}}
    survey = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths}
    document = merge_documents(gateway_document(), {"tickets": survey}, TABLE)
    answer = document["paths"]["/api/v1/surveys/{token}"]["post"]
    assert answer["security"] == [] and "401" not in answer["responses"] and "429" in answer["responses"]
    issue = document["paths"]["/api/v1/surveys"]["post"]
    assert issue["security"] == [{"bearerAuth": ["tickets:write"]}] and "401" in issue["responses"]


def test_components_are_deduplicated_and_clashes_prefixed() -> None:
    document = merged()
    schemas = document["components"]["schemas"]
    assert schemas["Customer"] == {"type": "object", "properties": {"id": {"type": "string"}}}
    assert schemas["segmentation.Customer"] == {"type": "object", "properties": {"segment": {"type": "string"}}}
    assert "segmentation.HTTPValidationError" not in schemas  # identical, kept once...
    assert "HTTPValidationError" in schemas  # ... and still referenced by the Envelope
    # Envelope refers to a renamed schema, so its content differs from nothing: it keeps its name
    assert schemas["Envelope"]["properties"]["customer"] == ref("segmentation.Customer")
    assert "Unused" not in schemas
    assert document["paths"]["/api/v1/customers"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ] == ref("Customers")


def test_a_schema_that_refers_to_a_renamed_one_is_renamed_when_it_then_clashes() -> None:
    first = {
        "openapi": "3.1.0",
        "info": {"title": "a", "version": "1"},
        "paths": {"/api/v1/customers/a": {"get": operation("a", "Wrapper")}},
        "components": {
            "schemas": {"Inner": {"type": "string"}, "Wrapper": {"type": "object", "properties": {"x": ref("Inner")}}}
        },
    }
    second = {
        "openapi": "3.1.0",
        "info": {"title": "b", "version": "1"},
        "paths": {"/api/v1/segmentation/b": {"get": operation("b", "Wrapper")}},
        "components": {
            "schemas": {"Inner": {"type": "integer"}, "Wrapper": {"type": "object", "properties": {"x": ref("Inner")}}}
        },
    }
    document = merge_documents(gateway_document(), {"customers": first, "segmentation": second}, TABLE)
    schemas = document["components"]["schemas"]
    assert schemas["segmentation.Wrapper"]["properties"]["x"] == ref("segmentation.Inner")
    assert schemas["Wrapper"]["properties"]["x"] == ref("Inner")
    b = document["paths"]["/api/v1/segmentation/b"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert b == ref("segmentation.Wrapper")


def test_missing_services_are_named_and_the_inputs_untouched() -> None:
    customers = customers_document()
    before = copy.deepcopy(customers)
    document = merge_documents(gateway_document(), {"customers": customers}, TABLE, missing=["segmentation"])
    assert document["info"]["x-missing-services"] == ["segmentation"]
    assert customers == before


def test_the_merged_document_is_valid_openapi_3_1() -> None:
    document = merged(missing=["tickets"])
    assert document["openapi"] == "3.1.0"
    validate(document)


# -- served by the gateway -----------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_the_gateway_serves_the_merged_document(upstream: Upstream) -> None:
    segmentation_up = False

    def documents(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/openapi.json"
        if request.url.host == "customers.internal":
            return httpx.Response(200, json=with_path_parameters(customers_document()))
        if request.url.host == "segmentation.internal" and segmentation_up:
            return httpx.Response(200, json=with_path_parameters(segmentation_document()))
        raise httpx.ConnectError("refused")

    upstream.handler = documents
    clock = Clock()
    app = create_app(make_settings(openapi_refresh_seconds=60), transport=httpx.MockTransport(upstream), clock=clock)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            first = (await client.get("/openapi.json")).json()
            calls = len(upstream.requests)
            assert (await client.get("/openapi.json")).json() == first  # cached
            assert len(upstream.requests) == calls
            segmentation_up = True
            clock.now += 6  # a missing service is asked again after a few seconds
            second = (await client.get("/openapi.json")).json()
            docs = await client.get("/docs")
    assert first["info"]["x-missing-services"] == ["segmentation", "tickets"]
    assert (
        "/api/v1/customers" in first["paths"] and "/api/v1/segmentation/customers/{customer_id}" not in first["paths"]
    )
    assert second["info"]["x-missing-services"] == ["tickets"]
    assert "/api/v1/segmentation/customers/{customer_id}" in second["paths"]
    # the gateway's own operations: the 360 view with its pydantic models, and health
    assert "/api/v1/customers/{customer_id}/360" in second["paths"] and "/readyz" in second["paths"]
    assert {"Customer360", "MissingPart"} <= set(second["components"]["schemas"])
    validate(second)
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]
    assert "/openapi.json" in docs.text and "swagger" in docs.text.lower()


async def test_the_document_needs_no_token(gateway: Callable[..., Any], upstream: Upstream) -> None:
    upstream.handler = lambda request: httpx.Response(503)
    async with gateway() as client:
        response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["x-missing-services"] == ["customers", "segmentation", "tickets"]
