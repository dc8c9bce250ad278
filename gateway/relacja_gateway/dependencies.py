"""FastAPI dependencies of the proxy route, as ``Annotated`` aliases.

    async def proxy(request: Request, route: MatchedRoute, principal: CurrentPrincipal,
                    client: UpstreamClient, settings: Settings) -> Response

FastAPI resolves them in that order, which is the order of the checks: an unknown path is
404 before anyone asks for a token, and a caller learns whether a service is deployed
(503) only after passing authentication and authorisation.
"""

from __future__ import annotations

from typing import Annotated, Sequence

import httpx
from fastapi import Depends, Request
from relacja_servicekit.problems import Problem

from .auth import Authenticator, Principal, authenticate, authorize
from .routes import Route, RouteTable, has_dot_segments
from .settings import GatewaySettings

__all__ = [
    "CurrentPrincipal",
    "MatchedRoute",
    "Settings",
    "UpstreamClient",
    "current_principal",
    "get_settings",
    "get_upstream_client",
    "matched_route",
]


def get_settings(request: Request) -> GatewaySettings:
    return request.app.state.settings


def get_upstream_client(request: Request) -> httpx.AsyncClient:
    return request.app.state.upstream_client


def matched_route(request: Request) -> Route:
    path: str = request.scope["path"]
    if has_dot_segments(path):
        raise Problem(400, "Invalid path", "Paths with . or .. segments are not accepted.", type_="invalid-path")
    table: RouteTable = request.app.state.route_table
    route = table.match(path)
    if route is None:
        raise Problem(404, detail=f"No resource at {path}", type_="not-found")
    return route


MatchedRoute = Annotated[Route, Depends(matched_route)]


async def current_principal(request: Request, route: MatchedRoute) -> Principal | None:
    """The caller, authorised for this route and method. Credentials are checked on public
    routes too: a client that sends a bad token learns so (401) instead of being served
    anonymously."""
    authenticators: Sequence[Authenticator] = request.app.state.authenticators
    principal = await authenticate(request.headers, authenticators)
    authorize(route.required_scope(request.method), principal, authenticators)
    return principal


Settings = Annotated[GatewaySettings, Depends(get_settings)]
UpstreamClient = Annotated[httpx.AsyncClient, Depends(get_upstream_client)]
CurrentPrincipal = Annotated[Principal | None, Depends(current_principal)]
