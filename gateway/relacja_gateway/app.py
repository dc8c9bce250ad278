"""``create_app``: the gateway as a FastAPI app.

    middleware (outermost first)  RequestContextMiddleware  X-Request-ID, traceparent, access log, metrics
                                  CORSMiddleware            only if cors_origins is set; wraps the
                                                            error answers too, so browsers can read them
                                  UnhandledErrorMiddleware  500 problem (with the request id), never a stack
                                  BodySizeLimitMiddleware   413 above max_body_bytes
    routes                        /healthz, /readyz, /metrics   (servicekit health_router)
                                  /openapi.json, /docs          the suite's merged OpenAPI (docs.py)
                                  /asyncapi.json, /docs/events  the event catalogue (docs.py)
                                  /partner/openapi.json, /partner/docs  the partners' (partner_docs.py)
                                  GET /api/v1/customers/{id}/360  composed here (customer360.py)
                                  GET /api/v1/customers/{id}/export  + the disclosures (export.py)
                                  /{path}  every method         → the route table → a service
    lifespan                      opens and closes the one shared upstream httpx client (and the
                                  per-upstream breakers and retry budgets around it); starts
                                  fetching the services' OpenAPI documents

``/readyz`` asks every configured upstream's ``/readyz`` concurrently, so the gateway is
ready only when every service behind it is; the body names each upstream's state.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.routing import Route as StarletteRoute

from relacja_servicekit.health import Check, health_router
from relacja_servicekit.methods import install_method_answers
from relacja_servicekit.middleware import BodySizeLimitMiddleware, RequestContextMiddleware, UnhandledErrorMiddleware
from relacja_servicekit.openapi import install_problem_openapi
from relacja_servicekit.problems import Problem, install_problem_handlers

from .auth import Authenticator, JwtBearerAuthenticator
from .customer360 import router as customer360_router
from .dependencies import current_principal, matched_route, rate_limited
from .docs import router as docs_router
from .export import router as export_router
from .jwks import JwksKeySource
from .openapi import OpenApiCache
from .partner_docs import partner_gateway_document
from .partner_docs import router as partner_docs_router
from .partners import PartnerApiKeyAuthenticator
from .proxy import forward, new_upstream_client, new_upstream_transport
from .ratelimit import RateLimiter
from .routes import ROUTES, Route, RouteTable
from .settings import GatewaySettings
from .upstreams import Upstreams

__all__ = ["create_app", "PROXY_METHODS"]

PROXY_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

# Headers a browser script may read from a cross-origin response (Fetch standard, CORS
# safelisted response headers exclude these).
_EXPOSED_HEADERS = [
    "X-Request-ID",
    "ETag",
    "Location",
    "Retry-After",
    "RateLimit",
    "RateLimit-Policy",
    "WWW-Authenticate",
]


async def proxy(request: Request) -> Response:
    """The catch-all: every routed call. A plain Starlette endpoint rather than a FastAPI
    route, because resolving FastAPI dependencies cost more per proxied call than the
    checks themselves (py-spy, docs/benchmarks.md). The checks are the functions the
    FastAPI routes (the 360 view) use as dependencies, called in the same order: 404 before
    401/403, 429 only for a known caller, then 503 for a service not deployed."""
    route = await matched_route(request)
    principal = await current_principal(request, route)
    limit = await rate_limited(request, principal)
    settings: GatewaySettings = request.app.state.settings
    upstreams: Upstreams = request.app.state.upstreams
    base_url = settings.upstreams.get(route.upstream)
    if base_url is None:
        # Not a transient outage, so no Retry-After: the service is not part of this deployment.
        raise Problem(
            503,
            "Service not deployed",
            f"The {route.upstream} service is not deployed here.",
            type_="service-not-deployed",
        )
    response = await forward(request, principal=principal, upstreams=upstreams, route=route, base_url=base_url)
    if limit is not None:
        response.raw_headers += [(name.lower().encode(), value.encode()) for name, value in limit.headers().items()]
    return response


def _upstream_ready(app: FastAPI, base_url: str, timeout: float) -> Check:
    async def check() -> None:
        client: httpx.AsyncClient = app.state.upstream_client
        response = await client.get(f"{base_url}/readyz", timeout=timeout)
        response.raise_for_status()

    return check


def create_app(
    settings: GatewaySettings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    routes: Iterable[Route] = ROUTES,
    authenticators: Sequence[Authenticator] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> FastAPI:
    """The gateway for ``settings``; ``transport`` replaces the network and ``clock`` the
    time of rate limits and circuit breakers, for tests."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upstream_transport = transport or new_upstream_transport(settings)
        async with new_upstream_client(settings, upstream_transport) as client:
            app.state.upstream_client = client
            app.state.upstreams = Upstreams(settings, client, upstream_transport, clock=clock)
            warm_up = asyncio.create_task(app.state.openapi.get(client)) if settings.openapi_fetch_at_start else None
            try:
                yield
            finally:
                if warm_up is not None:
                    warm_up.cancel()
                    with contextlib.suppress(BaseException):
                        await warm_up

    app = FastAPI(
        title="Relacja API",
        description=(
            "The whole Relacja CRM API as frontend teams see it through the gateway: every service's operations "
            "under /api/v1, bearer JWT with scopes, RFC 9457 problem details, rate limits with the IETF RateLimit headers."
        ),
        version="0.1.0",
        lifespan=lifespan,
        openapi_url=None,  # docs.py serves the merged document instead
        docs_url=None,
        redoc_url=None,
    )
    # The gateway's own operations (the 360 view) declare their problems as the services do.
    install_problem_openapi(app)
    app.state.settings = settings
    app.state.route_table = RouteTable(routes)
    app.state.openapi = OpenApiCache(
        app.openapi,
        app.state.route_table,
        settings.upstreams,
        partner_document=partner_gateway_document,
        refresh_seconds=settings.openapi_refresh_seconds,
        fetch_timeout_seconds=settings.openapi_fetch_timeout_seconds,
        clock=clock,
    )
    app.state.rate_limiter = (
        RateLimiter(settings.rate_limit_rate, settings.rate_limit_burst, clock=clock)
        if settings.rate_limit_enabled
        else None
    )
    app.state.partner_rate_limiter = (
        RateLimiter(settings.partner_rate_limit_rate, settings.partner_rate_limit_burst, clock=clock)
        if settings.rate_limit_enabled
        else None
    )
    if authenticators is None:
        jwks = None
        if settings.jwks_url:
            jwks = JwksKeySource(
                settings.jwks_url,
                lambda: app.state.upstream_client,
                refresh_seconds=settings.jwks_refresh_seconds,
                min_refresh_seconds=settings.jwks_min_refresh_seconds,
                timeout_seconds=settings.jwks_timeout_seconds,
                clock=clock,
            )
        # The API key authenticator first: it claims only ``rpk_`` tokens, which the JWT one
        # would refuse as malformed.
        authenticators = [
            PartnerApiKeyAuthenticator(
                lambda: app.state.upstreams, timeout_seconds=settings.partner_introspection_timeout_seconds
            ),
            JwtBearerAuthenticator.from_settings(settings, jwks),
        ]
    app.state.authenticators = list(authenticators)
    install_problem_handlers(app)
    checks = {
        name: _upstream_ready(app, url, settings.readiness_timeout_seconds) for name, url in settings.upstreams.items()
    }
    app.include_router(health_router(checks, retry_after_seconds=settings.retry_after_seconds))
    app.include_router(docs_router)
    app.include_router(partner_docs_router)
    app.include_router(customer360_router)
    app.include_router(export_router)
    # last: the catch-all must not shadow /healthz and friends
    app.router.routes.append(StarletteRoute("/{path:path}", proxy, methods=PROXY_METHODS, include_in_schema=False))
    # innermost: PUT /healthz is 405 (its own path), not the catch-all's "no upstream" 404
    install_method_answers(app)
    # Starlette runs the last-added middleware first.
    # The limit is checked before routing: each route's profile gives its prefix its limit.
    upload_limits = {route.prefix: route.profile.max_body_bytes(settings) for route in app.state.route_table}
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes, path_limits=upload_limits)
    app.add_middleware(UnhandledErrorMiddleware, retry_after_seconds=settings.retry_after_seconds)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=PROXY_METHODS,
            allow_headers=["*"],
            expose_headers=_EXPOSED_HEADERS,
        )
    app.add_middleware(RequestContextMiddleware)
    return app
