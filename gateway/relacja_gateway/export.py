"""``GET /api/v1/customers/{id}/export``: the GDPR access export, completed with the recipients.

    1  GET customers /api/v1/customers/{id}/export       the customer's own record, areas, events
       any answer but 200 is passed through as it is (404, 400, ...)
    2  GET sharing   /api/v1/customers/{id}/disclosures   every page (limit DISCLOSURES_PAGE)
       → related.disclosures: who received the customer's data, what, when and why
         (Art. 15(1)(c); CJEU C-154/21: the actual recipients, by name)

The customers service owns the export document (``relacja.customer-export.v1``, its
``related`` object holds one entry per area); the disclosure log lives in the sharing
service, so the gateway — the one place that already composes views across services
(customer360.py) — adds it as one more area, ``related.disclosures``, rather than having
the customers service call sharing or keep a copy of a log that grows with every record
delivered. The document's schema stays the customers service's.

An export must be complete, so there is no partial answer:

    caller lacks sharing:read                 403 insufficient-scope (names sharing:read)
    sharing down, failing or too slow         503 / 504 problem with Retry-After
    sharing not deployed in this suite        the export as the customers service gives it:
                                              nothing was shared through this deployment
    sharing answers 404                       related.disclosures = [] (nothing disclosed)

The route needs ``customers:read`` like every /api/v1/customers path (the route table),
plus ``sharing:read`` checked here; the customers service's own operation documents it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any, cast

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from relacja_servicekit.context import current_request_id, current_traceparent
from relacja_servicekit.problems import Problem

from .auth import Authenticator, Principal, authorize
from .dependencies import CurrentPrincipal, RateLimited, UpstreamsDep, log_field
from .headers import downstream_response_headers, upstream_request_headers
from .upstreams import CircuitOpenError, Upstreams, problem_for

__all__ = ["DISCLOSURES_PAGE", "DISCLOSURES_SCOPE", "ROUTE", "router"]

ROUTE = "/api/v1/customers/{customer_id}/export"
DISCLOSURES_SCOPE = "sharing:read"
DISCLOSURES_PAGE = 500  # the suite's largest page (relacja_servicekit.pagination.MAX_LIMIT)
_KEPT_HEADERS = frozenset({"etag", "last-modified", "cache-control"})


async def _get(upstreams: Upstreams, service: str, url: str, headers: list[tuple[str, str]]) -> httpx.Response:
    """The whole answer of one GET (read here, so nothing streams); failures are problems."""

    def build() -> httpx.Request:
        return upstreams.client.build_request("GET", url, headers=headers)

    retry_after = upstreams.settings.retry_after_seconds
    try:
        response, _ = await upstreams.send(service, build, retryable=True)
    except (CircuitOpenError, httpx.TransportError) as exc:
        raise problem_for(exc, service, retry_after) from None
    try:
        await response.aread()
    except httpx.TransportError as exc:
        raise problem_for(exc, service, retry_after) from None
    finally:
        await response.aclose()
    return response


def _bad_gateway(service: str) -> Problem:
    return Problem(502, "Bad gateway", f"The {service} service sent an invalid response.", type_="bad-gateway")


async def _disclosures(
    upstreams: Upstreams, base_url: str, customer_id: str, headers: list[tuple[str, str]]
) -> list[Any]:
    items: list[Any] = []
    cursor: str | None = None
    while True:
        query = httpx.QueryParams({"limit": DISCLOSURES_PAGE} | ({"cursor": cursor} if cursor else {}))
        url = f"{base_url}/api/v1/customers/{customer_id}/disclosures?{query}"
        response = await _get(upstreams, "sharing", url, headers)
        if response.status_code == 404:
            return items
        if response.status_code in (429, 503):
            raise Problem(
                503,
                "Service unavailable",
                "The sharing service cannot list the customer's disclosures right now; retry later.",
                type_="upstream-unavailable",
                headers={"Retry-After": str(upstreams.settings.retry_after_seconds)},
            )
        try:
            page = response.json() if response.status_code == 200 else None
        except ValueError:
            page = None
        if not isinstance(page, dict) or not isinstance(page.get("items"), list):
            raise _bad_gateway("sharing")
        items.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return items


async def export_with_disclosures(
    request: Request,
    principal: Principal,
    upstreams: Upstreams,
    authenticators: Sequence[Authenticator],
    customer_id: str,
) -> Response:
    authorize(DISCLOSURES_SCOPE, principal, authenticators)
    settings = upstreams.settings
    headers = upstream_request_headers(
        [("accept", "application/json")],
        principal=principal,
        request_id=current_request_id.get(),
        traceparent=current_traceparent.get(),
        client_host=request.client.host if request.client else None,
        scheme=request.url.scheme,
    )
    customers_url = settings.upstreams.get("customers")
    if customers_url is None:
        raise Problem(
            503, "Service not deployed", "The customers service is not deployed here.", type_="service-not-deployed"
        )
    path = request.scope.get("raw_path", b"").decode("latin-1") or request.scope["path"]
    exported = await _get(upstreams, "customers", customers_url + path, headers)
    received = downstream_response_headers(exported.headers.multi_items())
    if exported.status_code != 200:
        # httpx has decoded the body, so its length and encoding headers no longer hold.
        answer = Response(exported.content, status_code=exported.status_code)
        answer.raw_headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in received
            if name.lower() not in ("content-length", "content-encoding")
        ]
        return answer
    try:
        document = json.loads(exported.content)
        customer = uuid.UUID(customer_id)  # the customers service found it, so it is one
    except ValueError:
        raise _bad_gateway("customers") from None
    if not isinstance(document, dict) or not isinstance(document.get("related"), dict):
        raise _bad_gateway("customers")
    sharing_url = settings.upstreams.get("sharing")
    if sharing_url is not None:
        document["related"]["disclosures"] = await _disclosures(upstreams, sharing_url, str(customer), headers)
    else:
        log_field("missing_parts", ["disclosures"])
    return JSONResponse(document, headers={name: value for name, value in received if name.lower() in _KEPT_HEADERS})


router = APIRouter()


@router.get(ROUTE, include_in_schema=False)  # documented by the customers service's operation
async def customer_export(
    request: Request,
    principal: CurrentPrincipal,
    limit: RateLimited,
    upstreams: UpstreamsDep,
    customer_id: str,
) -> Response:
    log_field("route", ROUTE)
    log_field("upstream", "composed")
    # The route needs customers:read (route table), so the caller is known.
    response = await export_with_disclosures(
        request, cast(Principal, principal), upstreams, request.app.state.authenticators, customer_id
    )
    if limit is not None:
        response.headers.update(limit.headers())
    return response
