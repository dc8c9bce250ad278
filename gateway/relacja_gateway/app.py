"""``create_app``: the gateway as a FastAPI app.

    middleware (outermost first)  RequestContextMiddleware  X-Request-ID, traceparent, access log, metrics
                                  CORSMiddleware            only if cors_origins is set; wraps the
                                                            error answers too, so browsers can read them
                                  UnhandledErrorMiddleware  500 problem (with the request id), never a stack
                                  BodySizeLimitMiddleware   413 above max_body_bytes
    routes                        /healthz, /readyz, /metrics   (servicekit health_router)
                                  /{path}  every method         → the route table → a service
    lifespan                      opens and closes the one shared upstream httpx client

``/readyz`` asks every configured upstream's ``/readyz`` concurrently, so the gateway is
ready only when every service behind it is; the body names each upstream's state.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator, Iterable, Sequence

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from relacja_servicekit.health import Check, health_router
from relacja_servicekit.middleware import BodySizeLimitMiddleware, RequestContextMiddleware, UnhandledErrorMiddleware
from relacja_servicekit.problems import Problem, install_problem_handlers
from starlette.responses import Response

from .auth import Authenticator, JwtBearerAuthenticator
from .dependencies import CurrentPrincipal, MatchedRoute, Settings, UpstreamClient
from .proxy import forward, new_upstream_client
from .routes import ROUTES, Route, RouteTable
from .settings import GatewaySettings

__all__ = ["create_app", "PROXY_METHODS"]

PROXY_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

# Headers a browser script may read from a cross-origin response (Fetch standard, CORS
# safelisted response headers exclude these).
_EXPOSED_HEADERS = ["X-Request-ID", "ETag", "Location", "Retry-After", "RateLimit", "RateLimit-Policy", "WWW-Authenticate"]

proxy_router = APIRouter()


@proxy_router.api_route("/{path:path}", methods=PROXY_METHODS, include_in_schema=False)
async def proxy(request: Request, route: MatchedRoute, principal: CurrentPrincipal, client: UpstreamClient, settings: Settings) -> Response:
    base_url = settings.upstreams.get(route.upstream)
    if base_url is None:
        # Not a transient outage, so no Retry-After: the service is not part of this deployment.
        raise Problem(503, "Service not deployed", f"The {route.upstream} service is not deployed here.", type_="service-not-deployed")
    return await forward(
        request,
        principal=principal,
        client=client,
        base_url=base_url,
        service=route.upstream,
        retry_after_seconds=settings.retry_after_seconds,
    )


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
) -> FastAPI:
    """The gateway for ``settings``; ``transport`` replaces the network for tests."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with new_upstream_client(settings, transport) as client:
            app.state.upstream_client = client
            yield

    app = FastAPI(
        title="Relacja gateway",
        description="The public entry of the Relacja CRM: authentication, scopes, routing to services.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.route_table = RouteTable(routes)
    app.state.authenticators = list(authenticators) if authenticators is not None else [JwtBearerAuthenticator.from_settings(settings)]
    install_problem_handlers(app)
    checks = {name: _upstream_ready(app, url, settings.readiness_timeout_seconds) for name, url in settings.upstreams.items()}
    app.include_router(health_router(checks, retry_after_seconds=settings.retry_after_seconds))
    app.include_router(proxy_router)  # last: the catch-all must not shadow /healthz and friends
    # Starlette runs the last-added middleware first.
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
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
