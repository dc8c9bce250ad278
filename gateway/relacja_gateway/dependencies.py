"""FastAPI dependencies of the gateway's routes, as ``Annotated`` aliases.

    async def proxy(request: Request, route: MatchedRoute, principal: CurrentPrincipal,
                    limit: RateLimited, upstreams: UpstreamsDep, settings: Settings) -> Response

FastAPI resolves them in that order, which is the order of the checks: an unknown path is
404 before anyone asks for a token, a caller is counted against its rate limit only once
it is known (429 after 401/403), and learns whether a service is deployed (503) only
after all that. Each check also writes its part of the access-log line (route, principal).

Every dependency is ``async def``, even when it does not await: FastAPI runs plain ``def``
dependencies in a thread pool, which costs more per request than the whole proxy path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import httpx
from fastapi import Depends, Request

from relacja_servicekit.context import access_log_fields
from relacja_servicekit.problems import Problem

from .auth import Authenticator, Principal, admit, authenticate, authorize
from .ratelimit import Decision, RateLimiter
from .routes import Route, RouteTable, has_dot_segments
from .settings import GatewaySettings
from .upstreams import Upstreams

__all__ = [
    "CurrentPrincipal",
    "MatchedRoute",
    "RateLimited",
    "Settings",
    "UpstreamClient",
    "UpstreamsDep",
    "current_principal",
    "get_settings",
    "get_upstream_client",
    "get_upstreams",
    "log_field",
    "matched_route",
    "rate_limit_key",
    "rate_limited",
]


def log_field(name: str, value: object) -> None:
    """Add ``name`` to this request's access-log line (servicekit's request middleware)."""
    fields = access_log_fields.get()
    if fields is not None:
        fields[name] = value


async def get_settings(request: Request) -> GatewaySettings:
    return request.app.state.settings


async def get_upstream_client(request: Request) -> httpx.AsyncClient:
    return request.app.state.upstream_client


async def get_upstreams(request: Request) -> Upstreams:
    return request.app.state.upstreams


async def matched_route(request: Request) -> Route:
    path: str = request.scope["path"]
    if has_dot_segments(path):
        raise Problem(400, "Invalid path", "Paths with . or .. segments are not accepted.", type_="invalid-path")
    table: RouteTable = request.app.state.route_table
    route = table.match(path)
    if route is None:
        raise Problem(404, detail=f"No resource at {path}", type_="not-found")
    log_field("route", route.prefix)
    return route


MatchedRoute = Annotated[Route, Depends(matched_route)]


async def current_principal(request: Request, route: MatchedRoute) -> Principal | None:
    """The caller, authorised for this route and method: of the route's audience (staff or
    partner), then with its scope. Credentials are checked on public routes too: a client
    that sends a bad token learns so (401) instead of being served anonymously."""
    authenticators: Sequence[Authenticator] = request.app.state.authenticators
    principal = await authenticate(request.headers, authenticators)
    if principal is not None:
        log_field("principal", principal.id)
        log_field("principal_kind", principal.kind)
    admit(route.audience.value, principal, authenticators)
    authorize(route.required_scope(request.method, request.scope["path"]), principal, authenticators)
    return principal


CurrentPrincipal = Annotated[Principal | None, Depends(current_principal)]


def rate_limit_key(principal: Principal | None, request: Request) -> str:
    """Callers are limited one by one: by principal, or by client address when anonymous
    (behind a load balancer that address is the balancer's unless the server is told to
    trust its X-Forwarded-For, e.g. uvicorn --forwarded-allow-ips)."""
    if principal is not None:
        return f"{principal.kind}:{principal.id}"
    return f"ip:{request.client.host if request.client else 'unknown'}"


async def rate_limited(request: Request, principal: CurrentPrincipal) -> Decision | None:
    """Take one token from the caller's bucket (a partner's from the partners' limiter, with
    its own figures); 429 with the RateLimit headers when empty. None when rate limiting is off."""
    limiter: RateLimiter | None = (
        request.app.state.partner_rate_limiter
        if principal is not None and principal.kind == "partner"
        else request.app.state.rate_limiter
    )
    if limiter is None:
        return None
    decision = limiter.take(rate_limit_key(principal, request))
    if not decision.allowed:
        log_field("rate_limited", True)
        raise Problem(
            429,
            "Too many requests",
            f"The rate limit of {limiter.burst} requests at once and {limiter.rate:g} per second was reached; "
            f"retry after {decision.retry_after_seconds} s.",
            type_="rate-limited",
            headers=decision.headers(),
        )
    return decision


Settings = Annotated[GatewaySettings, Depends(get_settings)]
UpstreamClient = Annotated[httpx.AsyncClient, Depends(get_upstream_client)]
UpstreamsDep = Annotated[Upstreams, Depends(get_upstreams)]
RateLimited = Annotated[Decision | None, Depends(rate_limited)]
