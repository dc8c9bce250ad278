"""``GET /api/v1/customers/{id}/360``: one customer as every team sees it, composed here.

    part       service        call                                          scope
    profile    customers      GET /api/v1/customers/{id}                    customers:read
    consents   customers      GET /api/v1/customers/{id}/consents           customers:read
    orders     orders         GET /api/v1/orders/customers/{id}/summary     orders:read
    tickets    tickets        GET /api/v1/tickets/customers/{id}/summary    tickets:read
    segments   segmentation   GET /api/v1/segmentation/customers/{id}       analytics:read
    churn      churn          GET /api/v1/churn/customers/{id}              analytics:read
    disclosures sharing       GET /api/v1/customers/{id}/disclosures        sharing:read
                              (the first page: who received the customer's data, newest first)
    loyalty    loyalty        GET /api/v1/loyalty/customers/{id}            loyalty:read
    recommendations recommendations GET /api/v1/recommendations/customers/{id}/recommendations?limit=5
                                                                                 analytics:read
    sales      sales          GET /api/v1/sales/customers/{id}/summary      sales:read
                              (open opportunities and next activities the caller may see: the
                              identity headers carry the caller's team and roles)
    engagement engagement     GET /api/v1/engagement/customers/{id}         engagement:read
                              (messages by state, the 5 newest, marketing consents as the
                              engagement service knows them, suppressed channels)

The view itself needs ``customers:read`` (it lives under /api/v1/customers). Parts whose
scope the caller lacks are not fetched and are named in ``omitted``; the others are
fetched concurrently, each with its own deadline (``customer360_part_timeout_seconds``).
Each part is the owning service's JSON answer, unchanged. A part whose service answers
404 has nothing about this customer yet (no churn score before the first model run,
no profile in segmentation before its events arrived): it is null and named in
``empty`` — not a failure. A part that is late, down, not deployed or answers anything
else but 200 is named in ``missing`` with the reason, and the rest is returned with
200 — the view never fails because one part is missing, except that a profile answered
with 404 means there is no such customer: 404 problem.

Calls go through ``Upstreams`` (circuit breakers) without retries: the deadline is too
short for them. A deadline that runs out cancels the call and does not count against the
service's circuit — a slow service is not a broken one for callers with more patience.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal, cast

import httpx
from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from relacja_servicekit.context import current_request_id, current_traceparent
from relacja_servicekit.problems import Problem

from .auth import Principal
from .dependencies import CurrentPrincipal, RateLimited, UpstreamsDep, log_field
from .headers import upstream_request_headers
from .upstreams import CircuitOpenError, Upstreams

__all__ = ["PARTS", "Customer360", "MissingPart", "Part", "PartName", "assemble", "router"]

PartName = Literal[
    "profile",
    "consents",
    "orders",
    "tickets",
    "segments",
    "churn",
    "disclosures",
    "loyalty",
    "recommendations",
    "sales",
    "engagement",
]
ROUTE = "/api/v1/customers/{customer_id}/360"


@dataclass(frozen=True)
class Part:
    name: PartName
    upstream: str
    path: str  # with {id}
    scope: str


PARTS: tuple[Part, ...] = (
    Part("profile", "customers", "/api/v1/customers/{id}", "customers:read"),
    Part("consents", "customers", "/api/v1/customers/{id}/consents", "customers:read"),
    Part("orders", "orders", "/api/v1/orders/customers/{id}/summary", "orders:read"),
    Part("tickets", "tickets", "/api/v1/tickets/customers/{id}/summary", "tickets:read"),
    Part("segments", "segmentation", "/api/v1/segmentation/customers/{id}", "analytics:read"),
    Part("churn", "churn", "/api/v1/churn/customers/{id}", "analytics:read"),
    Part("disclosures", "sharing", "/api/v1/customers/{id}/disclosures", "sharing:read"),
    Part("loyalty", "loyalty", "/api/v1/loyalty/customers/{id}", "loyalty:read"),
    Part(
        "recommendations",
        "recommendations",
        "/api/v1/recommendations/customers/{id}/recommendations?limit=5",
        "analytics:read",
    ),
    Part("sales", "sales", "/api/v1/sales/customers/{id}/summary", "sales:read"),
    Part("engagement", "engagement", "/api/v1/engagement/customers/{id}", "engagement:read"),
)


class MissingPart(BaseModel):
    part: PartName
    reason: str = Field(
        description="Why the part is not in the view, e.g. `timed out after 300 ms`, `service not deployed`"
    )


class Customer360(BaseModel):
    """One customer across services. A part is null when it is empty, missing or omitted."""

    customer_id: uuid.UUID
    profile: dict[str, Any] | None = Field(default=None, description="The customer master record (customers service)")
    consents: Any = Field(default=None, description="Marketing and data-sharing consents (customers service)")
    orders: dict[str, Any] | None = Field(default=None, description="Order summary and last orders (orders service)")
    tickets: dict[str, Any] | None = Field(
        default=None, description="Open tickets and the last satisfaction score (tickets service)"
    )
    segments: dict[str, Any] | None = Field(
        default=None, description="Segments and analytical profile (segmentation service)"
    )
    churn: dict[str, Any] | None = Field(
        default=None, description="Churn risk and customer lifetime value (churn service)"
    )
    disclosures: dict[str, Any] | None = Field(
        default=None,
        description="The latest disclosures of the customer's data to partners: recipient, what, when, why (sharing service)",
    )
    loyalty: dict[str, Any] | None = Field(
        default=None, description="Loyalty memberships (balance, tier) and usable coupons (loyalty service)"
    )
    recommendations: dict[str, Any] | None = Field(
        default=None,
        description='Top 5 product suggestions with reasons ("often bought with X"; recommendations service)',
    )
    sales: dict[str, Any] | None = Field(
        default=None, description="Open opportunities and next activities the caller may see (sales service)"
    )
    engagement: dict[str, Any] | None = Field(
        default=None,
        description="Messages sent, suppressed, deferred (by state), the newest five, suppressed channels (engagement service)",
    )
    empty: list[PartName] = Field(
        default_factory=list, description="Parts whose service has nothing about this customer yet (it answered 404)"
    )
    missing: list[MissingPart] = Field(default_factory=list, description="Parts that were allowed but could not be had")
    omitted: list[PartName] = Field(
        default_factory=list, description="Parts the caller's scopes do not allow; not fetched"
    )


class _CustomerNotFound(Exception):
    """The profile part answered 404: the whole view is a 404, not a view with a part missing."""


class _Empty(Exception):
    """The part's service answered 404: it knows nothing about this customer (yet)."""


class _Missing(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def _fetch(part: Part, customer_id: uuid.UUID, upstreams: Upstreams, headers: list[tuple[str, str]]) -> Any:
    """The part's JSON, or raises ``_Empty`` / ``_Missing`` / ``_CustomerNotFound``."""
    base_url = upstreams.settings.upstreams.get(part.upstream)
    if base_url is None:
        raise _Missing("service not deployed")
    url = base_url + part.path.format(id=customer_id)

    def build() -> httpx.Request:
        return upstreams.client.build_request("GET", url, headers=headers)

    try:
        response, _ = await upstreams.send(part.upstream, build, retryable=False)
    except CircuitOpenError:
        raise _Missing("service unavailable (circuit open)") from None
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
        raise _Missing("service unavailable") from None
    except httpx.TimeoutException:
        raise _Missing("timed out") from None
    except httpx.TransportError:
        raise _Missing("invalid response") from None
    try:
        if response.status_code != 200:
            if response.status_code == 404:
                raise _CustomerNotFound() if part.name == "profile" else _Empty()
            reasons = {405: "not available", 503: "service unavailable"}
            raise _Missing(reasons.get(response.status_code, f"unexpected answer {response.status_code}"))
        body = await response.aread()
    finally:
        await response.aclose()
    try:
        return json.loads(body)
    except ValueError:
        raise _Missing("invalid response") from None


async def assemble(
    customer_id: uuid.UUID,
    principal: Principal,
    upstreams: Upstreams,
    *,
    client_host: str | None = None,
    scheme: str = "http",
) -> Customer360:
    """The view for ``principal``; raises a 404 ``Problem`` if the customer does not exist."""
    deadline = upstreams.settings.customer360_part_timeout_seconds
    allowed = [part for part in PARTS if principal.has_scope(part.scope)]
    headers = upstream_request_headers(
        [("accept", "application/json")],
        principal=principal,
        request_id=current_request_id.get(),
        traceparent=current_traceparent.get(),
        client_host=client_host,
        scheme=scheme,
    )

    async def fetch(part: Part) -> Any:
        try:
            async with asyncio.timeout(deadline):
                return await _fetch(part, customer_id, upstreams, headers)
        except TimeoutError:
            raise _Missing(f"timed out after {round(deadline * 1000)} ms") from None

    results = await asyncio.gather(*(fetch(part) for part in allowed), return_exceptions=True)
    view = Customer360(customer_id=customer_id, omitted=[part.name for part in PARTS if part not in allowed])
    for part, result in zip(allowed, results, strict=True):
        if isinstance(result, _CustomerNotFound):
            raise Problem(404, "Customer not found", f"There is no customer {customer_id}.", type_="not-found")
        if isinstance(result, _Empty):
            view.empty.append(part.name)
        elif isinstance(result, _Missing):
            view.missing.append(MissingPart(part=part.name, reason=result.reason))
        elif isinstance(result, BaseException):
            raise result
        else:
            setattr(view, part.name, result)
    return view


router = APIRouter(tags=["customer 360"])


@router.get(
    ROUTE,
    response_model=Customer360,
    summary="One customer across services (composed by the gateway)",
    description=(
        "Profile and consents (customers), order summary and last orders (orders), open tickets and the last "
        "satisfaction score (tickets), segments (segmentation), churn risk and lifetime value (churn), the latest "
        "disclosures to partners (sharing), loyalty memberships and coupons (loyalty), the top 5 "
        "product suggestions with reasons (recommendations), open deals and next activities (sales), the "
        "messages sent to the customer and their states (engagement), fetched "
        "concurrently with a deadline per part. Parts the caller's scopes do not allow are listed in `omitted`; "
        "parts that are late, down or not deployed are listed in `missing` with the reason, and the rest is returned."
    ),
    responses={
        404: {"description": "No such customer", "content": {"application/problem+json": {}}},
        429: {"description": "Rate limit reached", "content": {"application/problem+json": {}}},
    },
)
async def customer_360(
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    limit: RateLimited,
    upstreams: UpstreamsDep,
    customer_id: uuid.UUID = Path(description="The customer's id"),
) -> Customer360:
    log_field("route", ROUTE)
    log_field("upstream", "composed")
    if limit is not None:
        response.headers.update(limit.headers())
    view = await assemble(
        customer_id,
        cast(Principal, principal),  # the route needs customers:read, so the caller is known
        upstreams,
        client_host=request.client.host if request.client else None,
        scheme=request.url.scheme,
    )
    if view.missing:
        log_field("missing_parts", [m.part for m in view.missing])
    return view
