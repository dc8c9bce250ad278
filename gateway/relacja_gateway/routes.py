"""The route table: which public path goes to which service, and which scope it needs.

    path prefix               upstream       scopes                            profile
    /api/v1/customers         customers      customers:read | customers:write
    /api/v1/customers/imports customers      customers:read | customers:write  BULK
    /api/v1/segmentation      segmentation   analytics:read | analytics:write
    /api/v1/orders            orders         orders:read    | orders:write
    /api/v1/orders/imports    orders         orders:read    | orders:write     BULK
    /api/v1/products          orders         orders:read    | orders:write
    /api/v1/tickets           tickets        tickets:read   | tickets:write
    /api/v1/sla-policies      tickets        tickets:read   | tickets:write
    /api/v1/surveys           tickets        tickets:read   | tickets:write  (issuing surveys)
    /api/v1/surveys/{token}   tickets        public (no token): answering one survey by its token
    /api/v1/churn             churn          analytics:read | analytics:write
    /api/v1/kpis              churn          analytics:read | analytics:write
    /api/v1/sharing           sharing        sharing:read   | sharing:admin   (write scope overridden)
    /api/v1/sales             sales          sales:read     | sales:write
    /api/v1/sales/pipelines   sales          sales:read     | sales:admin     (settings: write scope overridden)
    /api/v1/sales/loss-reasons    sales      sales:read     | sales:admin     (settings)
    /api/v1/sales/exchange-rates  sales      sales:read     | sales:admin     (settings)

Each event-fed service's ``GET /api/v1/<service>/read-models/freshness`` (customers,
segmentation, orders, tickets, churn) falls under that service's prefix above, so it is
routed to it and needs the service's read scope, like any other read of its data.

GET and HEAD are reads (`<area>:read`), every other method is a write (`<area>:write`),
following the safe methods of RFC 9110 §9.2.1. A route may name its writes' scope
differently (``write_scope="admin"`` → ``<area>:admin``): the sharing staff face is
administration, not data entry, so its writes need ``sharing:admin`` (and reads
``sharing:read``), as the suite's scope list (docs/conventions.md) names them.
Prefixes match whole path segments, and the longest prefix wins, so a nested prefix can route to another service later — or
give a part of a service another profile of limits. ``DEFAULT`` routes use
``upstream_timeout_seconds`` (10 s by default: the most the gateway waits to connect,
for the response headers, and between two body chunks) and ``max_body_bytes`` (1 MiB).
``BULK`` routes — every historical import, whatever the service — use
``bulk_timeout_seconds`` and ``bulk_max_body_bytes`` instead (120 s, 1 GiB by default):
their bodies are streamed CSV / NDJSON files and the service answers when the job is
done. The figures live in the settings only, so an operator tunes them in one place.

This module is pure data and functions; the HTTP side lives in ``dependencies.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum

from .settings import GatewaySettings

__all__ = ["Route", "RouteProfile", "RouteTable", "ROUTES", "READ_METHODS", "has_dot_segments"]

# https://www.rfc-editor.org/rfc/rfc9110#section-9.2.1 (safe methods). OPTIONS is safe too,
# but the CORS middleware answers preflights before routing, and any other OPTIONS counts
# as a write, so nobody can probe a service's write endpoints without write access.
READ_METHODS = frozenset({"GET", "HEAD"})


def _segments(path: str) -> tuple[str, ...]:
    return tuple(path.strip("/").split("/")) if path.strip("/") else ()


def has_dot_segments(path: str) -> bool:
    """``.`` or ``..`` segments (RFC 3986 §5.2.4) would let the upstream resolve a path the
    gateway never authorised (``/api/v1/surveys/../tickets``), so such paths are refused."""
    return any(segment in (".", "..") for segment in path.split("/"))


class RouteProfile(Enum):
    """Which limits of the settings a route takes (its timeout and its largest body)."""

    DEFAULT = "default"
    BULK = "bulk"

    def timeout_seconds(self, settings: GatewaySettings) -> float:
        return settings.bulk_timeout_seconds if self is RouteProfile.BULK else settings.upstream_timeout_seconds

    def max_body_bytes(self, settings: GatewaySettings) -> int:
        return settings.bulk_max_body_bytes if self is RouteProfile.BULK else settings.max_body_bytes


@dataclass(frozen=True)
class Route:
    """One prefix of the public API; ``area`` None means a public route (no token needed).

    ``public_below``: the prefix itself needs the area's scopes, every path below it is
    public — for resources reached by an unguessable one-time token (a survey link in an
    e-mail), while the collection that issues them stays protected.

    ``write_scope``: the suffix of the scope every non-read method needs (``write`` unless
    the route says otherwise, e.g. ``admin`` for ``sharing:admin``)."""

    prefix: str
    upstream: str
    area: str | None
    public_below: bool = False
    profile: RouteProfile = RouteProfile.DEFAULT
    write_scope: str = "write"

    def is_public(self, path: str) -> bool:
        return self.area is None or (self.public_below and len(_segments(path)) > len(_segments(self.prefix)))

    def required_scope(self, method: str, path: str) -> str | None:
        """The scope a call needs, or None for a public path."""
        if self.is_public(path):
            return None
        return f"{self.area}:read" if method.upper() in READ_METHODS else f"{self.area}:{self.write_scope}"


class RouteTable:
    """Segment-wise longest-prefix lookup: one dict probe per segment of the request path."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self._by_segments: dict[tuple[str, ...], Route] = {}
        for route in routes:
            key = _segments(route.prefix)
            if not key or key in self._by_segments:
                raise ValueError(f"route prefix {route.prefix!r} is empty or listed twice")
            self._by_segments[key] = route

    def __iter__(self) -> Iterator[Route]:
        return iter(self._by_segments.values())

    def match(self, path: str) -> Route | None:
        segments = _segments(path)
        for length in range(len(segments), 0, -1):
            route = self._by_segments.get(segments[:length])
            if route is not None:
                return route
        return None


BULK = RouteProfile.BULK

ROUTES: tuple[Route, ...] = (
    Route("/api/v1/customers", "customers", "customers"),
    Route("/api/v1/customers/imports", "customers", "customers", profile=BULK),
    Route("/api/v1/segmentation", "segmentation", "analytics"),
    Route("/api/v1/orders", "orders", "orders"),
    Route("/api/v1/orders/imports", "orders", "orders", profile=BULK),
    Route("/api/v1/products", "orders", "orders"),
    Route("/api/v1/tickets", "tickets", "tickets"),
    Route("/api/v1/sla-policies", "tickets", "tickets"),
    Route("/api/v1/surveys", "tickets", "tickets", public_below=True),
    Route("/api/v1/churn", "churn", "analytics"),
    Route("/api/v1/kpis", "churn", "analytics"),
    Route("/api/v1/sharing", "sharing", "sharing", write_scope="admin"),
    Route("/api/v1/sales", "sales", "sales"),
    Route("/api/v1/sales/pipelines", "sales", "sales", write_scope="admin"),
    Route("/api/v1/sales/loss-reasons", "sales", "sales", write_scope="admin"),
    Route("/api/v1/sales/exchange-rates", "sales", "sales", write_scope="admin"),
)
