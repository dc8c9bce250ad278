"""Forwarding one request to a service and streaming the answer back.

    forward(request, principal, upstreams, route, base_url)
      → build the upstream request: same method, path and query; filtered headers
        (headers.py); the request body streamed as it arrives, never buffered — except
        the (bounded) body of an idempotent PUT or DELETE, kept so a retry can resend it
      → Upstreams.send(): circuit breaker, retries, the route's timeout (upstreams.py);
        the status and headers arrive first
      → a body announced as at most 64 KiB is read whole and sent at once (as nginx
        buffers); any other UpstreamResponse streams the raw upstream bytes and closes
        the upstream response when the body ends, the client goes away, or streaming fails

One ``httpx.AsyncClient`` (``new_upstream_client``) is shared by all requests, so
connections to services are pooled and reused; under it, aiohttp's connector carries the
bytes (transport.py says why). Failures before the upstream answered
become problem details that name the service but never its address:

    circuit open (the service kept failing)            503 upstream-unavailable + Retry-After
    could not connect / no pooled connection in time   503 upstream-unavailable + Retry-After
    connected, but no answer in time                   504 upstream-timeout + Retry-After
    the upstream broke the HTTP exchange               502 bad-gateway

(RFC 9110 §15.6.3–15.6.5.) The raw bytes are passed through (``aiter_raw``), so a
compressed body stays compressed and its Content-Length and Content-Encoding stay true.
"""

from __future__ import annotations

from http.cookiejar import Cookie, CookieJar
from typing import Any
from urllib.parse import quote

import httpx
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from relacja_servicekit.context import access_log_fields, current_request_id, current_traceparent

from .auth import Principal
from .headers import downstream_response_headers, upstream_request_headers
from .retries import IDEMPOTENT_METHODS
from .routes import Route
from .settings import GatewaySettings
from .transport import AiohttpTransport
from .upstreams import CircuitOpenError, Upstreams, problem_for

__all__ = ["forward", "new_upstream_client", "new_upstream_transport", "UpstreamResponse", "BUFFERED_BODY_BYTES"]

#: An upstream body announced (Content-Length) at most this large is read whole and sent
#: as one message, like nginx's proxy buffering: it frees the upstream connection at once
#: and spares a streaming task per request. Larger or unannounced bodies stream.
BUFFERED_BODY_BYTES = 64 * 1024


def _downstream_raw_headers(upstream: httpx.Response) -> list[tuple[bytes, bytes]]:
    # Raw bytes through latin-1 both ways are lossless; raw_headers rather than headers=
    # because a Mapping would merge repeated fields such as Set-Cookie.
    received = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in upstream.headers.raw]
    return [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in downstream_response_headers(received)
    ]


class UpstreamResponse(StreamingResponse):
    """Streams an upstream response's raw bytes and closes it however sending ends —
    body done, client gone, or an error — so its pooled connection is always released."""

    def __init__(self, upstream: httpx.Response) -> None:
        super().__init__(upstream.aiter_raw(), status_code=upstream.status_code)
        self.upstream = upstream
        self.raw_headers = _downstream_raw_headers(upstream)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.upstream.aclose()


def _announced_small(upstream: httpx.Response) -> bool:
    length = upstream.headers.get("content-length")
    return length is not None and length.isdigit() and int(length) <= BUFFERED_BODY_BYTES


async def _buffered(upstream: httpx.Response, service: str, retry_after: int) -> Response:
    """The whole (small) upstream body in one response; a failure while reading it is
    still a problem answer, since nothing has been sent to the client yet."""
    try:
        body = b"".join([chunk async for chunk in upstream.aiter_raw()])
    except httpx.TransportError as exc:
        raise problem_for(exc, service, retry_after) from None
    finally:
        await upstream.aclose()
    response = Response(body, status_code=upstream.status_code)
    response.raw_headers = _downstream_raw_headers(upstream)
    return response


class _NoCookieJar(CookieJar):
    """A jar that keeps nothing. The client is shared by every caller, so a cookie one
    caller's response set must never ride along on another caller's request; Set-Cookie
    and Cookie simply pass through as end-to-end headers."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None

    def set_cookie(self, cookie: Cookie) -> None:
        return None


def new_upstream_transport(settings: GatewaySettings) -> httpx.AsyncBaseTransport:
    """aiohttp's connection pool under httpx's interface (transport.py says why)."""
    return AiohttpTransport(max_connections=settings.max_upstream_connections)


def new_upstream_client(
    settings: GatewaySettings, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The shared client over ``transport`` (default: ``new_upstream_transport``).
    ``trust_env=False``: calls to services must never go through an HTTP proxy configured
    for the machine. Tests put a double in as ``transport``."""
    return httpx.AsyncClient(
        transport=transport or new_upstream_transport(settings),
        cookies=_NoCookieJar(),
        timeout=httpx.Timeout(settings.upstream_timeout_seconds),
        follow_redirects=False,
        trust_env=False,
    )


def _upstream_url(request: Request, base_url: str) -> str:
    # raw_path keeps the client's percent-encoding; ASGI servers may omit it (ASGI spec).
    raw_path = request.scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else quote(request.scope["path"])
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{base_url}{path}?{query}" if query else f"{base_url}{path}"


def _has_body(request: Request) -> bool:
    # Without Content-Length or Transfer-Encoding a request has no body
    # (https://www.rfc-editor.org/rfc/rfc9112#section-6.3); sending an empty chunked body
    # instead would turn a plain GET into a chunked one.
    length = request.headers.get("content-length")
    return "transfer-encoding" in request.headers or (length is not None and length != "0")


async def forward(
    request: Request,
    *,
    principal: Principal | None,
    upstreams: Upstreams,
    route: Route,
    base_url: str,
) -> Response:
    settings = upstreams.settings
    headers = upstream_request_headers(
        request.headers.items(),
        principal=principal,
        request_id=current_request_id.get(),
        traceparent=current_traceparent.get(),
        client_host=request.client.host if request.client else None,
        scheme=request.url.scheme,
    )
    retryable = request.method in IDEMPOTENT_METHODS
    content: Any = None
    if _has_body(request):
        # A stream can be sent once; an idempotent body (bounded by max_body_bytes) is kept
        # so that a retry sends it again. Other bodies stream straight through.
        content = await request.body() if retryable else request.stream()
    url = _upstream_url(request, base_url)
    extensions = {"timeout": httpx.Timeout(route.profile.timeout_seconds(settings)).as_dict()}

    def build() -> httpx.Request:
        # A bare request, not client.build_request(): the client would add its own default
        # headers (User-Agent, Accept-Encoding: gzip) to what the caller sent — an upstream
        # could then compress for a client that never asked for it — and merging them cost
        # a tenth of the proxy path.
        return httpx.Request(request.method, url, headers=headers, content=content, extensions=extensions)

    log_fields = access_log_fields.get()
    if log_fields is not None:
        log_fields["upstream"] = route.upstream
    try:
        upstream, retries = await upstreams.send(route.upstream, build, retryable=retryable)
    except (CircuitOpenError, httpx.TransportError) as exc:
        if log_fields is not None:
            log_fields["upstream_outcome"] = type(exc).__name__
        raise problem_for(exc, route.upstream, settings.retry_after_seconds) from None
    if log_fields is not None:
        log_fields["upstream_outcome"] = upstream.status_code
        log_fields["retries"] = retries
    if _announced_small(upstream):
        return await _buffered(upstream, route.upstream, settings.retry_after_seconds)
    return UpstreamResponse(upstream)
