"""The gateway app end to end at the ASGI level, with the services played by a mock transport."""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import jwt
import pytest
from gateway_doubles import SECRET, WITH_ORDERS, Upstream, make_settings
from starlette.requests import ClientDisconnect
from starlette.types import Message

from relacja_gateway.app import create_app

PROBLEM = "application/problem+json"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def assert_problem(response: httpx.Response, status: int, type_suffix: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["type"].endswith(type_suffix)
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def call_asgi(
    app: Callable[..., Any],
    path: str,
    headers: list[tuple[bytes, bytes]],
    on_send: Callable[[Message], Any] | None = None,
) -> list[Message]:
    """One GET straight through the ASGI interface: the raw path as given, every message
    the app sends observed as it is sent (ASGITransport would buffer the response)."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)
        if on_send is not None:
            await on_send(message)

    async def receive() -> Message:
        if not sent:
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError("unreachable")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"gateway.test"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("gateway.test", 80),
    }
    await asyncio.wait_for(app(scope, receive, send), timeout=5)
    return sent


# -- routing and authorisation ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/nowhere", "/api/v1/customersX", "/api/v2/customers"])
async def test_unknown_paths_are_404_problems(gateway: Callable[..., Any], upstream: Upstream, path: str) -> None:
    async with gateway() as client:
        assert_problem(await client.get(path), 404, "not-found")
    assert upstream.requests == []


async def test_no_token_is_401_with_a_challenge(gateway: Callable[..., Any], upstream: Upstream) -> None:
    async with gateway() as client:
        response = await client.get("/api/v1/customers")
    assert_problem(response, 401, "authentication-required")
    assert response.headers["www-authenticate"] == 'Bearer realm="relacja"'
    assert upstream.requests == []


async def test_a_token_signed_with_another_secret_is_401(
    gateway: Callable[..., Any], token: Callable[..., str], upstream: Upstream
) -> None:
    forged = token("admin", secret="an-attacker-secret-that-is-long-enough-too")
    async with gateway() as client:
        response = await client.get("/api/v1/customers", headers=auth(forged))
    assert_problem(response, 401, "invalid-token")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert upstream.requests == []


async def test_an_expired_token_is_401(gateway: Callable[..., Any]) -> None:
    expired = jwt.encode({"sub": "u", "scope": "admin", "exp": int(time.time()) - 10}, SECRET, algorithm="HS256")
    async with gateway(jwt_leeway_seconds=0) as client:
        response = await client.get("/api/v1/customers", headers=auth(expired))
    assert_problem(response, 401, "invalid-token")
    assert 'error_description="The access token expired"' in response.headers["www-authenticate"]


async def test_a_read_scope_cannot_write(
    gateway: Callable[..., Any], token: Callable[..., str], upstream: Upstream
) -> None:
    async with gateway() as client:
        reader = auth(token("customers:read"))
        assert (await client.get("/api/v1/customers/1", headers=reader)).status_code == 200
        response = await client.post("/api/v1/customers", headers=reader, json={"name": "Ada"})
    body = assert_problem(response, 403, "insufficient-scope")
    assert body["required_scope"] == "customers:write"
    assert 'error="insufficient_scope", scope="customers:write"' in response.headers["www-authenticate"]
    assert [request.method for request in upstream.requests] == ["GET"]


async def test_scopes_are_per_area(gateway: Callable[..., Any], token: Callable[..., str]) -> None:
    async with gateway() as client:
        assert (await client.get("/api/v1/segmentation/rfm", headers=auth(token("customers:read")))).status_code == 403
        assert (await client.get("/api/v1/segmentation/rfm", headers=auth(token("analytics:read")))).status_code == 200
        assert (await client.delete("/api/v1/tickets/1", headers=auth(token("admin")))).status_code == 200


async def test_a_route_without_a_deployed_service_is_503_after_auth(
    gateway: Callable[..., Any], token: Callable[..., str]
) -> None:
    async with gateway() as client:
        assert (await client.get("/api/v1/orders")).status_code == 401
        response = await client.get("/api/v1/orders", headers=auth(token("orders:read")))
    body = assert_problem(response, 503, "service-not-deployed")
    assert "orders" in body["detail"]


async def test_encoded_dot_segments_are_refused(gateway: Callable[..., Any], upstream: Upstream) -> None:
    async with gateway() as client:
        response = await client.get("/api/v1/surveys/%2E%2E/tickets")
    assert_problem(response, 400, "invalid-path")
    assert upstream.requests == []


async def test_literal_dot_segments_are_refused(upstream: Upstream) -> None:
    # httpx would resolve "/surveys/../tickets" to "/tickets" on its way out, so a public
    # survey path must not reach the tickets service that way. (Sent raw: httpx clients
    # normalise such paths themselves, but curl --path-as-is does not.)
    app = create_app(make_settings(), transport=httpx.MockTransport(upstream))
    async with app.router.lifespan_context(app):
        sent = await call_asgi(app, "/api/v1/surveys/../tickets", [])
    assert sent[0]["status"] == 400
    assert upstream.requests == []


# -- what services receive ------------------------------------------------------------------


async def test_public_routes_pass_anonymously_without_identity(gateway: Callable[..., Any], upstream: Upstream) -> None:
    spoofed = {"X-Relacja-Principal": "mallory", "x-relacja-scopes": "admin", "X-RELACJA-PRINCIPAL-KIND": "user"}
    async with gateway() as client:
        response = await client.post("/api/v1/surveys/s1/answers", headers=spoofed, json={"score": 9})
    assert response.status_code == 200
    assert not [name for name in upstream.last.headers if name.lower().startswith("x-relacja-")]
    assert upstream.last.url.host == "tickets.internal"


async def test_issuing_surveys_is_not_public(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    async with gateway() as client:
        assert_problem(await client.post("/api/v1/surveys", json={"kind": "nps"}), 401, "authentication-required")
        assert_problem(
            await client.post("/api/v1/surveys", headers=auth(token("tickets:read")), json={"kind": "nps"}),
            403,
            "insufficient-scope",
        )
        assert (
            await client.post("/api/v1/surveys", headers=auth(token("tickets:write")), json={"kind": "nps"})
        ).status_code == 200
    assert len(upstream.requests) == 1


async def test_a_bad_token_on_a_public_route_is_still_401(gateway: Callable[..., Any], upstream: Upstream) -> None:
    async with gateway() as client:
        assert_problem(await client.get("/api/v1/surveys/s1", headers=auth("garbage")), 401, "invalid-token")
    assert upstream.requests == []


async def test_identity_headers_are_set_from_the_token_and_spoofs_dropped(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    headers = {
        **auth(token("customers:read", "analytics:read", subject="alice")),
        "x-relacja-principal": "mallory",
        "X-Relacja-Scopes": "admin",
        "X-Relacja-Principal-Kind": "partner",
    }
    async with gateway() as client:
        assert (await client.get("/api/v1/customers/1", headers=headers)).status_code == 200
    received = upstream.last.headers
    assert received.get_list("x-relacja-principal") == ["alice"]
    assert received.get_list("x-relacja-principal-kind") == ["user"]
    assert received.get_list("x-relacja-scopes") == ["analytics:read customers:read"]
    assert "authorization" not in received


async def test_forwarding_headers(gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]) -> None:
    async with gateway() as client:
        await client.get("/api/v1/customers", headers={**auth(token("admin")), "X-Forwarded-For": "10.9.9.9"})
    received = upstream.last.headers
    assert received["x-forwarded-for"] == "203.0.113.7"
    assert received["x-forwarded-proto"] == "http"
    assert received["x-forwarded-host"] == "gateway.test"
    assert received["host"] == "customers.internal:8101"


async def test_path_and_query_are_forwarded_as_they_are(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    async with gateway() as client:
        await client.get(
            "/api/v1/customers/a%20b%2Fc?status=open&q=J%C3%B3zef&sort=-created_at", headers=auth(token("admin"))
        )
    assert upstream.last.url.raw_path == b"/api/v1/customers/a%20b%2Fc?status=open&q=J%C3%B3zef&sort=-created_at"
    assert upstream.last.url.host == "customers.internal" and upstream.last.url.port == 8101


async def test_request_id_and_trace_are_propagated(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    upstream.handler = lambda request: httpx.Response(
        200, headers={"X-Request-ID": "upstream-own", "traceparent": "00-x"}, json={}
    )
    incoming = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
    async with gateway() as client:
        response = await client.get(
            "/api/v1/customers", headers={**auth(token("admin")), "X-Request-ID": "req-42", "traceparent": incoming}
        )
    received = upstream.last.headers
    assert received.get_list("x-request-id") == ["req-42"]
    forwarded = received["traceparent"]
    assert forwarded.startswith(f"00-{TRACE_ID}-") and forwarded != incoming  # same trace, the gateway's span
    assert response.headers.get_list("x-request-id") == ["req-42"]
    assert response.headers.get_list("traceparent") == [forwarded]


async def test_a_request_id_is_generated_when_none_came(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    async with gateway() as client:
        response = await client.get("/api/v1/customers", headers=auth(token("admin")))
    assert upstream.last.headers["x-request-id"] == response.headers["x-request-id"]
    assert len(response.headers["x-request-id"]) >= 16


async def test_a_get_is_sent_without_a_body(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    async with gateway() as client:
        await client.get("/api/v1/customers", headers=auth(token("admin")))
    assert "transfer-encoding" not in upstream.last.headers and "content-length" not in upstream.last.headers
    assert upstream.last.content == b""


async def test_request_bodies_are_forwarded(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b'{"name": ', b'"Ada"', b"}"):
            yield part

    async with gateway() as client:
        await client.post("/api/v1/customers", headers=auth(token("admin")), json={"name": "Grace"})
        assert upstream.last.content == b'{"name":"Grace"}'
        assert upstream.last.headers["content-length"] == "16"
        assert upstream.last.headers["content-type"] == "application/json"
        await client.post("/api/v1/customers", headers=auth(token("admin")), content=chunks())
        assert upstream.last.content == b'{"name": "Ada"}'
        assert upstream.last.headers["transfer-encoding"] == "chunked"


async def test_bodies_over_the_limit_are_413(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    async def big() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 1000

    async with gateway(max_body_bytes=4096) as client:
        assert_problem(
            await client.post("/api/v1/customers", headers=auth(token("admin")), content=b"x" * 5000),
            413,
            "body-too-large",
        )
        assert upstream.requests == []
        assert_problem(
            await client.post("/api/v1/customers", headers=auth(token("admin")), content=big()), 413, "body-too-large"
        )


@pytest.mark.parametrize("path", ["/api/v1/customers/imports", "/api/v1/orders/imports"])
async def test_every_import_route_takes_large_streamed_bodies(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str], path: str
) -> None:
    async with gateway(max_body_bytes=4096, upstreams=WITH_ORDERS) as client:
        response = await client.post(
            path, headers=auth(token("admin")) | {"content-type": "text/csv"}, content=b"x" * 50_000
        )
        assert response.status_code != 413
        assert len(upstream.last.content) == 50_000
        # Only the import collection itself: a path below it keeps the default limit.
        too_big = await client.post(f"{path}/1", headers=auth(token("admin")), content=b"x" * 50_000)
        assert_problem(too_big, 413, "body-too-large")


@pytest.mark.parametrize("path", ["/api/v1/customers/imports", "/api/v1/orders/imports"])
async def test_the_bulk_body_limit_comes_from_the_settings(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str], path: str
) -> None:
    async with gateway(max_body_bytes=4096, bulk_max_body_bytes=20_000, upstreams=WITH_ORDERS) as client:
        ok = await client.post(path, headers=auth(token("admin")) | {"content-type": "text/csv"}, content=b"x" * 19_000)
        assert ok.status_code != 413
        assert_problem(
            await client.post(path, headers=auth(token("admin")), content=b"x" * 20_001), 413, "body-too-large"
        )
        assert len(upstream.requests) == 1


# -- what clients receive -------------------------------------------------------------------


async def test_upstream_answers_pass_through(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    upstream.handler = lambda request: httpx.Response(
        409,
        headers=[
            ("Content-Type", "application/problem+json"),
            ("ETag", '"v3"'),
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
            ("Connection", "close, X-Hop"),
            ("X-Hop", "secret"),
            ("Keep-Alive", "timeout=5"),
            ("Server", "uvicorn"),
        ],
        content=b'{"status": 409}',
    )
    async with gateway() as client:
        response = await client.post("/api/v1/customers", headers=auth(token("admin")), json={})
    assert response.status_code == 409 and response.content == b'{"status": 409}'
    assert response.headers["etag"] == '"v3"'
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert not {"connection", "x-hop", "keep-alive", "server"} & set(response.headers)


async def test_compressed_bodies_stay_compressed(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    packed = gzip.compress(b'{"items": []}')
    headers = {"Content-Encoding": "gzip", "Content-Length": str(len(packed))}
    upstream.handler = lambda request: httpx.Response(200, headers=headers, stream=httpx.ByteStream(packed))
    async with gateway() as client:
        response = await client.get("/api/v1/customers", headers=auth(token("admin")))
    assert response.headers["content-length"] == str(len(packed))
    assert response.json() == {"items": []}


@pytest.mark.parametrize(
    ("error", "status", "type_suffix"),
    [
        (httpx.ConnectError("[Errno 111] connect to customers.internal:8101 refused"), 503, "upstream-unavailable"),
        (httpx.ConnectTimeout("customers.internal:8101"), 503, "upstream-unavailable"),
        (httpx.ReadTimeout("customers.internal:8101"), 504, "upstream-timeout"),
        (httpx.RemoteProtocolError("customers.internal:8101 sent garbage"), 502, "bad-gateway"),
    ],
)
async def test_upstream_failures_become_problems_without_internals(
    gateway: Callable[..., Any],
    upstream: Upstream,
    token: Callable[..., str],
    error: Exception,
    status: int,
    type_suffix: str,
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    upstream.handler = fail
    async with gateway(retry_after_seconds=7) as client:
        response = await client.get("/api/v1/customers", headers=auth(token("admin")))
    body = assert_problem(response, status, type_suffix)
    assert "customers.internal" not in response.text and "Traceback" not in response.text
    assert "customers" in body["detail"]
    if status != 502:
        assert response.headers["retry-after"] == "7"


async def test_responses_stream_and_the_upstream_response_is_closed(
    upstream: Upstream, token: Callable[..., str]
) -> None:
    """The first chunk reaches the client while the service is still producing the rest."""
    release = asyncio.Event()
    closed = asyncio.Event()

    class SlowBody(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b"first,"
            await release.wait()
            yield b"second"

        async def aclose(self) -> None:
            closed.set()

    upstream.handler = lambda request: httpx.Response(200, headers={"Content-Type": "text/csv"}, stream=SlowBody())
    app = create_app(make_settings(), transport=httpx.MockTransport(upstream))

    async def first_chunk_arrived(message: Message) -> None:
        if message["type"] == "http.response.body" and message.get("body") == b"first,":
            release.set()  # only a gateway that streams gets here before the upstream finishes

    async with app.router.lifespan_context(app):
        sent = await call_asgi(
            app,
            "/api/v1/customers/export",
            [(b"authorization", f"Bearer {token('admin')}".encode())],
            first_chunk_arrived,
        )
    bodies = [message.get("body", b"") for message in sent if message["type"] == "http.response.body"]
    assert b"".join(bodies) == b"first,second"
    assert bodies[0] == b"first,"
    assert closed.is_set()


async def test_the_upstream_response_is_closed_when_the_client_goes_away(
    upstream: Upstream, token: Callable[..., str]
) -> None:
    closed = asyncio.Event()

    class EndlessBody(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            while True:
                yield b"row\n"
                await asyncio.sleep(0)

        async def aclose(self) -> None:
            closed.set()

    upstream.handler = lambda request: httpx.Response(200, stream=EndlessBody())
    app = create_app(make_settings(), transport=httpx.MockTransport(upstream))

    async def hang_up(message: Message) -> None:
        if message["type"] == "http.response.body":
            raise OSError("connection reset by peer")

    async with app.router.lifespan_context(app):
        with pytest.raises(ClientDisconnect):
            await call_asgi(
                app, "/api/v1/customers/export", [(b"authorization", f"Bearer {token('admin')}".encode())], hang_up
            )
    assert closed.is_set()


async def test_cookies_set_for_one_caller_never_reach_another(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    upstream.handler = lambda request: httpx.Response(200, headers=[("Set-Cookie", "session=alice; Path=/")], json={})
    async with gateway() as client:
        first = await client.get("/api/v1/customers", headers=auth(token("admin", subject="alice")))
        client.cookies.clear()  # the test client keeps cookies; a second browser would not have them
        await client.get("/api/v1/customers", headers=auth(token("admin", subject="bob")))
    assert first.headers["set-cookie"] == "session=alice; Path=/"
    assert "cookie" not in upstream.last.headers


# -- operations endpoints --------------------------------------------------------------------


async def test_healthz(gateway: Callable[..., Any], upstream: Upstream) -> None:
    async with gateway() as client:
        response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert upstream.requests == []


async def test_readyz_when_every_upstream_is_ready(gateway: Callable[..., Any], upstream: Upstream) -> None:
    async with gateway() as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"customers": "ok", "segmentation": "ok", "tickets": "ok"}}
    assert sorted(str(request.url) for request in upstream.requests) == [
        "http://customers.internal:8101/readyz",
        "http://segmentation.internal:8102/readyz",
        "http://tickets.internal:8103/readyz",
    ]


async def test_readyz_when_an_upstream_is_not(gateway: Callable[..., Any], upstream: Upstream) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "segmentation.internal":
            return httpx.Response(503, json={"status": "unavailable"})
        if request.url.host == "tickets.internal":
            raise httpx.ConnectError("refused")
        return httpx.Response(200, json={"status": "ok"})

    upstream.handler = answer
    async with gateway(retry_after_seconds=9) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503 and response.headers["retry-after"] == "9"
    checks = response.json()["checks"]
    assert checks["customers"] == "ok"
    assert checks["segmentation"].startswith("unavailable") and checks["tickets"].startswith("unavailable")


async def test_metrics(gateway: Callable[..., Any], token: Callable[..., str]) -> None:
    async with gateway() as client:
        await client.get("/api/v1/customers", headers=auth(token("admin")))
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert 'relacja_gateway_upstream_responses_total{outcome="200",upstream="customers"}' in response.text
    assert "relacja_http_requests_total" in response.text


async def test_cors_for_configured_origins(gateway: Callable[..., Any]) -> None:
    preflight = {
        "Origin": "https://crm.example.com",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    async with gateway(cors_origins=["https://crm.example.com"]) as client:
        allowed = await client.options("/api/v1/customers", headers=preflight)
        refused = await client.options("/api/v1/customers", headers={**preflight, "Origin": "https://evil.example"})
        error = await client.get("/api/v1/customers", headers={"Origin": "https://crm.example.com"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://crm.example.com"
    assert "access-control-allow-origin" not in refused.headers
    assert error.status_code == 401 and error.headers["access-control-allow-origin"] == "https://crm.example.com"
    assert "www-authenticate" in error.headers["access-control-expose-headers"].lower()


async def test_a_small_body_that_breaks_off_is_a_502_not_a_cut_response(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    # Content-Length says 100 bytes, the stream ends after 10: read whole before answering,
    # so the client gets a problem instead of a truncated 200.
    class BrokenBody(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b'{"partial'
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

    upstream.handler = lambda request: httpx.Response(200, headers={"Content-Length": "100"}, stream=BrokenBody())
    async with gateway() as client:
        response = await client.get("/api/v1/customers/c1", headers=auth(token("customers:read")))
    assert_problem(response, 502, "bad-gateway")


async def test_the_gateway_adds_no_content_negotiation_of_its_own(
    gateway: Callable[..., Any], upstream: Upstream, token: Callable[..., str]
) -> None:
    # A client that did not ask for gzip must not get a gzip body passed through raw.
    async with gateway() as client:
        del client.headers["accept-encoding"]
        del client.headers["user-agent"]
        response = await client.get("/api/v1/customers/c1", headers=auth(token("customers:read")))
    assert response.status_code == 200
    assert "accept-encoding" not in upstream.last.headers and "user-agent" not in upstream.last.headers
