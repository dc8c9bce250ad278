"""The route table: segment-wise longest-prefix matching and scopes per method class."""

from __future__ import annotations

import pytest

from relacja_gateway.routes import EVENT_FED_SERVICES, ROUTES, Route, RouteProfile, RouteTable, has_dot_segments
from relacja_gateway.settings import GatewaySettings

TABLE = RouteTable(ROUTES)


@pytest.mark.parametrize(
    ("path", "upstream"),
    [
        ("/api/v1/customers", "customers"),
        ("/api/v1/customers/", "customers"),
        ("/api/v1/customers/42/contacts", "customers"),
        ("/api/v1/segmentation/rfm", "segmentation"),
        ("/api/v1/orders/1", "orders"),
        ("/api/v1/orders/imports", "orders"),
        ("/api/v1/customers/imports/7", "customers"),
        ("/api/v1/products", "orders"),
        ("/api/v1/tickets/7", "tickets"),
        ("/api/v1/sla-policies", "tickets"),
        ("/api/v1/surveys/abc", "tickets"),
        ("/api/v1/churn/scores", "churn"),
        ("/api/v1/kpis", "churn"),
        ("/api/v1/sharing/agreements/1", "sharing"),
        ("/api/v1/sales/opportunities/1", "sales"),
        ("/api/v1/sales/pipelines", "sales"),
    ],
)
def test_every_documented_prefix_routes_to_its_service(path: str, upstream: str) -> None:
    route = TABLE.match(path)
    assert route is not None and route.upstream == upstream


@pytest.mark.parametrize(
    "path",
    ["/api/v1/customersX", "/api/v1/customers-old/1", "/api/v1", "/api/v2/customers", "/", "", "/api/v1//customers"],
)
def test_prefixes_match_whole_segments_only(path: str) -> None:
    assert TABLE.match(path) is None


def test_longest_prefix_wins() -> None:
    table = RouteTable(
        [Route("/api/v1/customers", "customers", "customers"), Route("/api/v1/customers/360", "composer", "analytics")]
    )
    assert table.match("/api/v1/customers/360/abc").upstream == "composer"  # type: ignore[union-attr]  # a None match fails the test here too
    assert table.match("/api/v1/customers/3600").upstream == "customers"  # type: ignore[union-attr]  # a None match fails the test here too
    assert table.match("/api/v1/customers").upstream == "customers"  # type: ignore[union-attr]  # a None match fails the test here too


@pytest.mark.parametrize("routes", [[Route("/", "x", None)], [Route("/a", "x", None), Route("/a/", "y", None)]])
def test_empty_or_duplicate_prefixes_are_refused(routes: list[Route]) -> None:
    with pytest.raises(ValueError):
        RouteTable(routes)


@pytest.mark.parametrize(
    ("method", "scope"),
    [
        ("GET", "customers:read"),
        ("HEAD", "customers:read"),
        ("get", "customers:read"),
        ("POST", "customers:write"),
        ("PUT", "customers:write"),
        ("PATCH", "customers:write"),
        ("DELETE", "customers:write"),
        ("OPTIONS", "customers:write"),
    ],
)
def test_scope_per_method_class(method: str, scope: str) -> None:
    assert TABLE.match("/api/v1/customers").required_scope(method, "/api/v1/customers") == scope  # type: ignore[union-attr]  # a None match fails the test here too


def test_areas_of_the_table() -> None:
    areas = {route.prefix: route.area for route in ROUTES}
    assert areas["/api/v1/segmentation"] == "analytics"
    assert areas["/api/v1/kpis"] == "analytics"
    assert areas["/api/v1/products"] == "orders"
    assert areas["/api/v1/sla-policies"] == "tickets"


def test_a_route_may_name_its_write_scope() -> None:
    sharing = TABLE.match("/api/v1/sharing/agreements")
    assert sharing is not None
    assert sharing.required_scope("GET", "/api/v1/sharing/agreements") == "sharing:read"
    assert sharing.required_scope("HEAD", "/api/v1/sharing/agreements") == "sharing:read"
    for method in ("POST", "PATCH", "PUT", "DELETE", "OPTIONS"):
        assert sharing.required_scope(method, "/api/v1/sharing/agreements") == "sharing:admin"
    assert Route("/x", "x", "x").required_scope("POST", "/x") == "x:write"


def test_sales_settings_need_sales_admin_to_write_and_the_rest_sales_write() -> None:
    for path in ("/api/v1/sales/pipelines/1", "/api/v1/sales/loss-reasons", "/api/v1/sales/exchange-rates"):
        route = TABLE.match(path)
        assert route is not None
        assert route.required_scope("GET", path) == "sales:read"
        assert route.required_scope("PATCH", path) == "sales:admin"
    deals = TABLE.match("/api/v1/sales/opportunities")
    assert deals is not None and deals.required_scope("POST", "/api/v1/sales/opportunities") == "sales:write"


def test_answering_a_survey_is_public_but_issuing_one_is_not() -> None:
    route = TABLE.match("/api/v1/surveys/1")
    assert route is not None and route.is_public("/api/v1/surveys/1")
    assert (
        route.required_scope("POST", "/api/v1/surveys/1") is None
        and route.required_scope("GET", "/api/v1/surveys/1") is None
    )
    assert not route.is_public("/api/v1/surveys") and route.required_scope("POST", "/api/v1/surveys") == "tickets:write"
    assert route.required_scope("GET", "/api/v1/surveys/") == "tickets:read"
    assert not TABLE.match("/api/v1/tickets").is_public("/api/v1/tickets/1")  # type: ignore[union-attr]  # a None match fails the test here too


def test_a_review_link_is_public_but_the_rest_of_engagement_is_not() -> None:
    link = "/api/v1/engagement/review-requests/tok3n"
    route = TABLE.match(f"{link}/reviews")
    assert route is not None and route.upstream == "engagement"
    assert route.required_scope("GET", link) is None and route.required_scope("POST", f"{link}/reviews") is None
    assert route.required_scope("GET", "/api/v1/engagement/review-requests") == "engagement:read"
    staff = TABLE.match("/api/v1/engagement/reviews/1/approve")
    assert staff is not None and staff.required_scope("POST", "/api/v1/engagement/reviews/1/approve") == (
        "engagement:write"
    )
    assert staff.required_scope("GET", "/api/v1/engagement/products/1/rating-summary") == "engagement:read"


@pytest.mark.parametrize(
    ("path", "dotted"),
    [
        ("/api/v1/surveys/../tickets", True),
        ("/api/v1/./customers", True),
        ("/api/v1/customers/a..b", False),
        ("/api/v1/customers/.well", False),
    ],
)
def test_dot_segments_are_detected(path: str, dotted: bool) -> None:
    assert has_dot_segments(path) is dotted


def test_every_import_route_is_bulk_and_nothing_else_is() -> None:
    bulk = {route.prefix for route in ROUTES if route.profile is RouteProfile.BULK}
    assert bulk == {"/api/v1/customers/imports", "/api/v1/orders/imports"}
    assert all(prefix.endswith("/imports") for prefix in bulk)


def test_a_profile_takes_its_limits_from_the_settings() -> None:
    settings = GatewaySettings(
        upstream_timeout_seconds=4, max_body_bytes=2048, bulk_timeout_seconds=600, bulk_max_body_bytes=1 << 20
    )
    assert (RouteProfile.DEFAULT.timeout_seconds(settings), RouteProfile.DEFAULT.max_body_bytes(settings)) == (4, 2048)
    assert (RouteProfile.BULK.timeout_seconds(settings), RouteProfile.BULK.max_body_bytes(settings)) == (600, 1 << 20)


@pytest.mark.parametrize("service", EVENT_FED_SERVICES)
def test_dead_letters_are_an_operator_route_of_each_event_fed_service(service: str) -> None:
    path = f"/api/v1/{service}/dead-letters"
    route = TABLE.match(f"{path}/redrive")
    assert route is not None and route.upstream == service
    assert route.required_scope("GET", path) == "operations:read"
    assert route.required_scope("POST", f"{path}/redrive") == "operations:admin"
    # the rest of the service's prefix keeps its own scopes
    rest = TABLE.match(f"/api/v1/{service}/read-models/freshness")
    assert rest is not None and rest.area != "operations"
