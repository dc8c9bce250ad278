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
    /api/v1/sharing           sharing        sharing:read   | sharing:admin
    /api/v1/customers/{customer_id}/disclosures
                              sharing        sharing:read   | sharing:admin   (one pattern, below)
    /partner/v1               sharing        a partner credential, no scopes  PARTNER
    /api/v1/loyalty           loyalty        loyalty:read   | loyalty:write
    /api/v1/recommendations   recommendations analytics:read | analytics:write
    /api/v1/sales             sales          sales:read     | sales:write
    /api/v1/sales/pipelines   sales          sales:read     | sales:admin     (settings: write scope overridden)
    /api/v1/sales/loss-reasons    sales      sales:read     | sales:admin     (settings)
    /api/v1/sales/exchange-rates  sales      sales:read     | sales:admin     (settings)
    /api/v1/engagement        engagement     engagement:read | engagement:write
    /api/v1/engagement/review-requests/{token}
                              engagement     public (no token): reviewing a delivered order through its link
    /api/v1/<service>/dead-letters
                              <service>      operations:read | operations:admin (every event-fed service)

Two audiences (``Audience``): staff routes (/api/v1) take a staff bearer token and check
its scopes; partner routes (/partner/v1) take a partner credential — an API key the
sharing service vouches for, or a JWT with a ``partner_id`` claim (auth.py) — and no
scopes, since the sharing service checks what the partner may see on every call. A
credential of the other kind is refused (403) whatever the route, so a partner key never
reaches /api/v1 and a staff token never reaches /partner/v1.

A segment written ``{name}`` in a prefix matches any one segment, so the recipients of one
customer's data (``GET /api/v1/customers/{customer_id}/disclosures``, served by sharing)
are routed apart from the rest of /api/v1/customers: it is longer than that prefix, so it
wins. Literal segments win over a ``{name}`` segment of the same length. Patterns are kept
for the few routes like this one (one list probe per pattern of a matching length), the
plain prefixes stay one dict probe per segment.

Each event-fed service's ``GET /api/v1/<service>/read-models/freshness`` (customers,
segmentation, orders, tickets, churn, loyalty, recommendations) falls under that service's prefix above, so it is
routed to it and needs the service's read scope, like any other read of its data. Its
``/api/v1/<service>/dead-letters`` (list, and ``/redrive``) is routed apart, to the same
service, with the ``operations`` area: an operator's tool, not the service's data scopes —
listing needs ``operations:read``, re-driving ``operations:admin``.

GET and HEAD are reads (`<area>:read`), every other method is a write (`<area>:write`),
following the safe methods of RFC 9110 §9.2.1. A route may name its writes' scope
differently (``write_scope="admin"`` → ``<area>:admin``): the sharing staff face is
administration, not data entry, so its writes need ``sharing:admin`` (and reads
``sharing:read``), as the suite's scope list (docs/conventions.md) names them.
Prefixes match whole path segments, and the longest prefix wins, so a nested prefix
can route to another service later — or
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

__all__ = [
    "Audience",
    "EVENT_FED_SERVICES",
    "Route",
    "RouteProfile",
    "RouteTable",
    "ROUTES",
    "READ_METHODS",
    "has_dot_segments",
]

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


class Audience(Enum):
    """Who a route is for: the principal kind (auth.py) it accepts."""

    STAFF = "user"
    PARTNER = "partner"


def _is_variable(segment: str) -> bool:
    return len(segment) > 2 and segment.startswith("{") and segment.endswith("}")


@dataclass(frozen=True)
class Route:
    """One prefix of the public API; ``area`` None means a public route (no token needed).

    ``public_below``: the prefix itself needs the area's scopes, every path below it is
    public — for resources reached by an unguessable one-time token (a survey link in an
    e-mail), while the collection that issues them stays protected.

    ``write_scope``: the suffix of the scope every non-read method needs (``write`` unless
    the route says otherwise, e.g. ``admin`` for ``sharing:admin``).

    ``audience``: who may call it (``Audience``); a partner route's ``area`` is None, as
    partners carry no scopes."""

    prefix: str
    upstream: str
    area: str | None
    public_below: bool = False
    profile: RouteProfile = RouteProfile.DEFAULT
    audience: Audience = Audience.STAFF
    write_scope: str = "write"

    @property
    def is_pattern(self) -> bool:
        return any(_is_variable(segment) for segment in _segments(self.prefix))

    def matches_prefix_of(self, segments: tuple[str, ...]) -> bool:
        """Whether this route's prefix matches the first segments of ``segments``."""
        own = _segments(self.prefix)
        return len(own) <= len(segments) and all(
            _is_variable(mine) or mine == theirs for mine, theirs in zip(own, segments, strict=False)
        )

    def is_public(self, path: str) -> bool:
        return self.area is None or (self.public_below and len(_segments(path)) > len(_segments(self.prefix)))

    def required_scope(self, method: str, path: str) -> str | None:
        """The scope a call needs, or None for a public path (and for partner routes,
        which need a partner credential rather than a scope)."""
        if self.is_public(path):
            return None
        return f"{self.area}:read" if method.upper() in READ_METHODS else f"{self.area}:{self.write_scope}"


class RouteTable:
    """Segment-wise longest-prefix lookup: one dict probe per segment of the request path,
    plus the (few) pattern routes of that length."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self._by_segments: dict[tuple[str, ...], Route] = {}
        self._patterns: dict[int, list[Route]] = {}
        seen: set[tuple[str, ...]] = set()
        for route in routes:
            key = _segments(route.prefix)
            shape = tuple("{}" if _is_variable(segment) else segment for segment in key)
            if not key or shape in seen:
                raise ValueError(f"route prefix {route.prefix!r} is empty or listed twice")
            seen.add(shape)
            if route.is_pattern:
                self._patterns.setdefault(len(key), []).append(route)
            else:
                self._by_segments[key] = route

    def __iter__(self) -> Iterator[Route]:
        yield from self._by_segments.values()
        for routes in self._patterns.values():
            yield from routes

    def match(self, path: str) -> Route | None:
        segments = _segments(path)
        for length in range(len(segments), 0, -1):
            route = self._by_segments.get(segments[:length])
            if route is not None:
                return route
            for pattern in self._patterns.get(length, ()):
                if pattern.matches_prefix_of(segments):
                    return pattern
        return None


BULK = RouteProfile.BULK
PARTNER = Audience.PARTNER

# The services that run consumers: each serves /api/v1/<service>/read-models/freshness and
# /api/v1/<service>/dead-letters (relacja_servicekit, mounted with the consumers).
EVENT_FED_SERVICES = (
    "customers",
    "segmentation",
    "orders",
    "tickets",
    "churn",
    "sharing",
    "loyalty",
    "recommendations",
    "sales",
    "engagement",
)

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
    Route("/api/v1/customers/{customer_id}/disclosures", "sharing", "sharing", write_scope="admin"),
    Route("/partner/v1", "sharing", None, audience=PARTNER),
    Route("/api/v1/loyalty", "loyalty", "loyalty"),
    Route("/api/v1/recommendations", "recommendations", "analytics"),
    Route("/api/v1/sales", "sales", "sales"),
    Route("/api/v1/sales/pipelines", "sales", "sales", write_scope="admin"),
    Route("/api/v1/sales/loss-reasons", "sales", "sales", write_scope="admin"),
    Route("/api/v1/sales/exchange-rates", "sales", "sales", write_scope="admin"),
    Route("/api/v1/engagement", "engagement", "engagement"),
    Route("/api/v1/engagement/review-requests", "engagement", "engagement", public_below=True),
    *(
        Route(f"/api/v1/{service}/dead-letters", service, "operations", write_scope="admin")
        for service in EVENT_FED_SERVICES
    ),
)
