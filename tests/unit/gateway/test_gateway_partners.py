"""The gateway's partner face: API keys checked by the sharing service (played by the mock
transport) on every call, partner JWTs, the two audiences kept apart, the identity
headers the sharing service receives, and the per-partner rate limit."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from gateway_doubles import SECRET, UPSTREAMS, Upstream

from relacja_gateway.partners import INTROSPECTION_PATH
from relacja_gateway.routes import ROUTES, Audience, Route, RouteTable
from relacja_gateway.tokens import mint_token

SHARING = "http://sharing.internal:8106"
WITH_SHARING = UPSTREAMS | {"sharing": SHARING}
PARTNER_A = str(uuid.uuid4())
PARTNER_B = str(uuid.uuid4())
KEY_A = "rpk_0123456789abcdef_" + "a" * 43
KEY_A2 = "rpk_fedcba9876543210_" + "c" * 43
KEY_B = "rpk_00000000000000bb_" + "b" * 43
PROBLEM = "application/problem+json"


class Sharing:
    """The sharing service: knows some keys (a dict the test may change between calls)."""

    def __init__(self, upstream: Upstream) -> None:
        self.keys: dict[str, str] = {KEY_A: PARTNER_A, KEY_A2: PARTNER_A, KEY_B: PARTNER_B}
        self.down = False
        upstream.handler = self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == INTROSPECTION_PATH:
            if self.down:
                raise httpx.ConnectError("connection refused", request=request)
            partner = self.keys.get(json.loads(request.content)["api_key"])
            if partner is None:
                return httpx.Response(401, json={"status": 401, "title": "Unauthorized"})
            body = {"partner_id": partner, "key_id": str(uuid.uuid4()), "partner_status": "active"}
            return httpx.Response(200, json=body)
        return httpx.Response(200, json={"items": [], "next_cursor": None})

    @staticmethod
    def introspections(upstream: Upstream) -> list[httpx.Request]:
        return [r for r in upstream.requests if r.url.path == INTROSPECTION_PATH]


@pytest.fixture
def sharing(upstream: Upstream) -> Sharing:
    return Sharing(upstream)


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


def partner_token(partner_id: str, *, scopes: tuple[str, ...] = ()) -> str:
    return mint_token(SECRET, "client-of-a", list(scopes), 300, partner_id=uuid.UUID(partner_id))


def assert_problem(response: httpx.Response, status: int, type_suffix: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"].endswith(type_suffix), body
    return body


# -- the route table ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "upstream", "audience"),
    [
        ("/partner/v1/feeds/1/events", "sharing", Audience.PARTNER),
        ("/partner/v1", "sharing", Audience.PARTNER),
        ("/api/v1/sharing/partners", "sharing", Audience.STAFF),
        ("/api/v1/customers/7/disclosures", "sharing", Audience.STAFF),
        ("/api/v1/customers/7/disclosures/x", "sharing", Audience.STAFF),
        ("/api/v1/customers/7/consents", "customers", Audience.STAFF),
        ("/api/v1/customers/disclosures", "customers", Audience.STAFF),
        ("/api/v1/customers/imports/7", "customers", Audience.STAFF),
    ],
)
def test_partner_and_disclosure_routes(path: str, upstream: str, audience: Audience) -> None:
    route = RouteTable(ROUTES).match(path)
    assert route is not None and (route.upstream, route.audience) == (upstream, audience)


@pytest.mark.parametrize("path", ["/internal/v1/partner-credentials/introspect", "/partner/v2/x", "/partner"])
def test_internal_and_unknown_partner_paths_are_not_routed(path: str) -> None:
    assert RouteTable(ROUTES).match(path) is None


def test_sharing_scopes_are_read_and_admin() -> None:
    table = RouteTable(ROUTES)
    for path in ("/api/v1/sharing/agreements", "/api/v1/customers/1/disclosures"):
        route = table.match(path)
        assert route is not None
        assert (route.required_scope("GET", path), route.required_scope("POST", path)) == (
            "sharing:read",
            "sharing:admin",
        )


def test_a_literal_segment_wins_over_a_pattern_of_the_same_length() -> None:
    table = RouteTable(
        [Route("/a/{id}/b", "pattern", None), Route("/a/fixed/b", "literal", None), Route("/a", "short", None)]
    )
    assert table.match("/a/fixed/b").upstream == "literal"  # type: ignore[union-attr]  # a None match fails here too
    assert table.match("/a/other/b/c").upstream == "pattern"  # type: ignore[union-attr]  # a None match fails here too
    assert table.match("/a/other/c").upstream == "short"  # type: ignore[union-attr]  # a None match fails here too


def test_a_pattern_listed_twice_is_refused() -> None:
    with pytest.raises(ValueError):
        RouteTable([Route("/a/{id}/b", "x", None), Route("/a/{other}/b", "y", None)])


# -- API keys -------------------------------------------------------------------------------


async def test_an_api_key_reaches_sharing_as_the_partner_id_only(
    gateway: Callable[..., Any], upstream: Upstream, sharing: Sharing
) -> None:
    async with gateway(upstreams=WITH_SHARING) as client:
        response = await client.get(
            "/partner/v1/feeds/x/events",
            headers=bearer(KEY_A)
            | {"X-Relacja-Partner-Id": PARTNER_B, "X-Relacja-Principal-Kind": "user", "x-relacja-scopes": "admin"},
        )
    assert response.status_code == 200, response.text
    introspection, forwarded = upstream.requests
    assert introspection.url == SHARING + INTROSPECTION_PATH and json.loads(introspection.content) == {"api_key": KEY_A}
    assert forwarded.url == SHARING + "/partner/v1/feeds/x/events"
    assert forwarded.headers.get_list("x-relacja-partner-id") == [PARTNER_A]  # the caller's header is gone
    assert forwarded.headers.get_list("x-relacja-principal-kind") == ["partner"]
    assert forwarded.headers["x-relacja-principal"] == PARTNER_A and forwarded.headers["x-relacja-scopes"] == ""
    assert "authorization" not in forwarded.headers  # the key stops at the gateway


async def test_every_call_is_checked_so_a_revoked_key_fails_on_the_next_one(
    gateway: Callable[..., Any], upstream: Upstream, sharing: Sharing
) -> None:
    async with gateway(upstreams=WITH_SHARING) as client:
        assert (await client.get("/partner/v1/agreements", headers=bearer(KEY_A))).status_code == 200
        assert (await client.get("/partner/v1/agreements", headers=bearer(KEY_A))).status_code == 200
        del sharing.keys[KEY_A]  # revoked
        revoked = await client.get("/partner/v1/agreements", headers=bearer(KEY_A))
    body = assert_problem(revoked, 401, "invalid-token")
    assert "unknown or revoked" in body["detail"]
    assert 'error="invalid_token"' in revoked.headers["www-authenticate"]
    assert len(Sharing.introspections(upstream)) == 3


@pytest.mark.parametrize("key", ["rpk_", "rpk_abc def", "rpk_" + "x" * 300, "rpk_ä"])
async def test_a_malformed_key_is_401_without_asking_sharing(
    gateway: Callable[..., Any], upstream: Upstream, sharing: Sharing, key: str
) -> None:
    async with gateway(upstreams=WITH_SHARING) as client:
        response = await client.get("/partner/v1/agreements", headers={"Authorization": f"Bearer {key}".encode()})
    assert_problem(response, 401, "invalid-token")
    assert upstream.requests == []


async def test_sharing_down_is_503_with_retry_after(
    gateway: Callable[..., Any], upstream: Upstream, sharing: Sharing
) -> None:
    sharing.down = True
    async with gateway(upstreams=WITH_SHARING, retry_attempts=0) as client:
        response = await client.get("/partner/v1/agreements", headers=bearer(KEY_A))
    body = assert_problem(response, 503, "upstream-unavailable")
    assert int(response.headers["retry-after"]) >= 1 and "sharing" in body["detail"]
    assert "sharing.internal" not in response.text


async def test_sharing_not_deployed_is_503(gateway: Callable[..., Any], upstream: Upstream) -> None:
    async with gateway() as client:
        response = await client.get("/partner/v1/agreements", headers=bearer(KEY_A))
    assert_problem(response, 503, "service-not-deployed")
    assert upstream.requests == []


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (httpx.Response(200, json={"partner_id": "nope", "partner_status": "active"}), 502),
        (httpx.Response(200, json={"partner_id": PARTNER_A, "partner_status": "gone"}), 502),
        (httpx.Response(200, content=b"not json"), 502),
        (httpx.Response(404, json={}), 502),
        (httpx.Response(503, headers={"retry-after": "7"}), 503),
    ],
)
async def test_an_odd_introspection_answer_is_never_an_identity(
    gateway: Callable[..., Any], upstream: Upstream, answer: httpx.Response, status: int
) -> None:
    upstream.handler = lambda request: answer
    async with gateway(upstreams=WITH_SHARING, retry_attempts=0) as client:
        response = await client.get("/partner/v1/agreements", headers=bearer(KEY_A))
    assert response.status_code == status, response.text
    assert [r.url.path for r in upstream.requests] == [INTROSPECTION_PATH]


# -- audiences --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/customers", "/api/v1/sharing/partners", "/api/v1/surveys/some-token", "/api/v1/customers/1/360"]
)
async def test_a_partner_credential_never_reaches_the_staff_api(
    gateway: Callable[..., Any], upstream: Upstream, sharing: Sharing, path: str
) -> None:
    async with gateway(upstreams=WITH_SHARING) as client:
        with_key = await client.get(path, headers=bearer(KEY_A))
        with_token = await client.get(path, headers=bearer(partner_token(PARTNER_A, scopes=("admin",))))
    for response in (with_key, with_token):
        body = assert_problem(response, 403, "staff-credential-required")
        assert "/partner/v1" in body["detail"]
    assert [r.url.path for r in upstream.requests] == [INTROSPECTION_PATH]


async def test_a_staff_token_never_reaches_the_partner_api(
    gateway: Callable[..., Any], upstream: Upstream, sharing: Sharing, token: Callable[..., str]
) -> None:
    async with gateway(upstreams=WITH_SHARING) as client:
        staff = await client.get("/partner/v1/agreements", headers=bearer(token("admin")))
        anonymous = await client.get("/partner/v1/agreements")
    assert "staff access token" in assert_problem(staff, 403, "partner-credential-required")["detail"]
    assert_problem(anonymous, 401, "authentication-required")
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="relacja"'
    assert upstream.requests == []


async def test_a_partner_jwt_is_a_partner_credential(
    gateway: Callable[..., Any], upstream: Upstream, sharing: Sharing
) -> None:
    async with gateway(upstreams=WITH_SHARING) as client:
        response = await client.get("/partner/v1/agreements", headers=bearer(partner_token(PARTNER_B)))
    assert response.status_code == 200, response.text
    assert upstream.last.headers["x-relacja-partner-id"] == PARTNER_B
    assert upstream.last.headers["x-relacja-principal-kind"] == "partner"
    assert Sharing.introspections(upstream) == []  # a JWT is verified by the gateway itself


@pytest.mark.parametrize("claim", ["not-a-uuid", 42, PARTNER_A.upper(), ""])
async def test_a_malformed_partner_id_claim_is_an_invalid_token(
    gateway: Callable[..., Any], upstream: Upstream, claim: object
) -> None:
    token = jwt.encode({"sub": "c", "exp": 2**31, "partner_id": claim}, SECRET, algorithm="HS256")
    async with gateway(upstreams=WITH_SHARING) as client:
        response = await client.get("/partner/v1/agreements", headers=bearer(token))
    assert_problem(response, 401, "invalid-token")
    assert upstream.requests == []


# -- rate limits ------------------------------------------------------------------------------


async def test_partners_are_limited_one_by_one_whatever_key_they_use(
    gateway: Callable[..., Any], upstream: Upstream, sharing: Sharing, token: Callable[..., str]
) -> None:
    limits = {"partner_rate_limit_burst": 2, "partner_rate_limit_rate": 0.001, "rate_limit_burst": 5}
    async with gateway(upstreams=WITH_SHARING, **limits) as client:
        first = await client.get("/partner/v1/agreements", headers=bearer(KEY_A))
        second = await client.get("/partner/v1/agreements", headers=bearer(KEY_A2))  # same partner, other key
        third = await client.get("/partner/v1/agreements", headers=bearer(partner_token(PARTNER_A)))
        other_partner = await client.get("/partner/v1/agreements", headers=bearer(KEY_B))
        staff = await client.get("/api/v1/customers", headers=bearer(token("admin")))
    assert (first.status_code, second.status_code, other_partner.status_code, staff.status_code) == (200,) * 4
    assert_problem(third, 429, "rate-limited")
    assert third.headers["ratelimit-policy"] == '"default";q=2;w=2000'
    assert int(third.headers["retry-after"]) >= 1
