"""Pure ASGI middleware for every service (and the gateway).

``RequestContextMiddleware``
    accepts or generates ``X-Request-ID`` and returns it; continues the W3C trace from
    ``traceparent``; makes both available to logs and to the outbox; writes one JSON
    access-log line per request; records Prometheus metrics per route template.
``UnhandledErrorMiddleware``
    turns an exception no handler took into a 500 (or 503 for an unreachable database or
    broker) problem. It sits inside the request context, unlike Starlette's outermost
    ServerErrorMiddleware, so the answer still carries the request id.
``BodySizeLimitMiddleware``
    answers 413 for a body over the limit — from ``Content-Length`` before reading, or
    while streaming a chunked body — so a huge upload never reaches a handler.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping

from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .context import access_log_fields, continue_trace, current_request_id, current_traceparent, valid_request_id
from .problems import Problem, problem_response, unexpected_error_problem

__all__ = ["RequestContextMiddleware", "UnhandledErrorMiddleware", "BodySizeLimitMiddleware", "REQUESTS", "LATENCY"]

access_log = logging.getLogger("relacja.access")

REQUESTS = Counter("relacja_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "relacja_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

_QUIET_PATHS = {"/healthz", "/readyz", "/metrics"}


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = valid_request_id(headers.get("x-request-id")) or uuid.uuid4().hex
        traceparent = continue_trace(headers.get("traceparent"))
        id_token = current_request_id.set(request_id)
        trace_token = current_traceparent.set(traceparent)
        fields: dict[str, object] = {}
        fields_token = access_log_fields.set(fields)
        started = time.perf_counter()
        status = 500

        async def send_with_context(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode()),
                    (b"traceparent", traceparent.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_context)
        finally:
            elapsed = time.perf_counter() - started
            route = str(fields.pop("route", None) or getattr(scope.get("route"), "path", None) or "unmatched")
            method = scope["method"]
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(elapsed)
            if scope["path"] not in _QUIET_PATHS:
                access_log.info(
                    "request",
                    extra={
                        **fields,
                        "method": method,
                        "path": scope["path"],
                        "route": route,
                        "status": status,
                        "latency_ms": round(elapsed * 1000, 2),
                        "traceparent": traceparent,
                    },
                )
            current_request_id.reset(id_token)
            current_traceparent.reset(trace_token)
            access_log_fields.reset(fields_token)


class UnhandledErrorMiddleware:
    def __init__(self, app: ASGIApp, retry_after_seconds: int = 5) -> None:
        self.app = app
        self.retry_after_seconds = retry_after_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if response_started:
                raise  # too late for a problem answer; the server closes the connection
            problem = unexpected_error_problem(exc, retry_after_seconds=self.retry_after_seconds)
            await problem_response(problem, scope["path"])(scope, receive, send)


class _BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive``; an HTTPException so that FastAPI's body reader re-raises it
    as it is (it turns other errors into a generic 400) and the problem handler answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body exceeds {limit} bytes.")


class BodySizeLimitMiddleware:
    """``path_limits`` gives exact paths their own limit (a streamed upload route), since
    the limit is checked before routing."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, path_limits: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits.get(scope["path"].rstrip("/"), self.max_body_bytes)
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit():
                    await self._reject(scope, send, 400, "Content-Length is not a number.")
                    return
                if int(value) > limit:
                    await self._reject(scope, send, 413, self._too_large(limit))
                    return
        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not response_started:
                await self._reject(scope, send, 413, self._too_large(limit))

    @staticmethod
    def _too_large(limit: int) -> str:
        return f"The request body exceeds {limit} bytes."

    @staticmethod
    async def _reject(scope: Scope, send: Send, status: int, detail: str) -> None:
        slug = "body-too-large" if status == 413 else "invalid-header"
        response = problem_response(Problem(status, detail=detail, type_=slug), scope["path"])
        await response({"type": "http"}, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}
