"""The suite's OpenAPI 3.1 documents, one per audience (routes.Audience): the staff one —
the gateway's own operations plus every service's /api/v1 operations, as a frontend team
sees them through the gateway — and the partners' one (/partner/v1 only, partner_docs.py
adds its prose and webhooks). Neither lists the other's operations: a partner has no use
for the staff API, and the staff /docs should not invite anyone to call /partner/v1.

    merge_documents(gateway_doc, {"customers": doc, ...}, route_table, missing=[...], audience=STAFF)
      paths       a service's path is kept only if the route table sends it to that
                  service and the route is for ``audience`` (its /healthz, /readyz,
                  /metrics, /internal and anything unrouted are dropped); the gateway's
                  own paths win over a service's
      security    staff: components.securitySchemes.bearerAuth (HTTP bearer, JWT); each
                  operation gets [{"bearerAuth": [<scope of the route and method>]}] (plus
                  the scopes a composed operation checks itself: COMPOSED_SCOPES), public
                  routes and the gateway's operations endpoints get [] (OpenAPI 3.1 §4.8.30
                  lets non-OAuth schemes list the roles they need); partner:
                  components.securitySchemes.partnerAuth (HTTP bearer: an API key or a
                  partner's JWT), [{"partnerAuth": []}] on every operation
      responses   every routed operation also documents the gateway's own answers:
                  401/403 (secured ones), 429 and 503, as components.responses
      webhooks    kept from the gateway document (OpenAPI 3.1 §4.8.1: the partner one's)
      components  identical components are kept once; a name that two documents use for
                  different things is prefixed with the service name in the later one
                  ("segmentation.Profile") and its $refs rewritten; unreferenced
                  components are dropped
      info        x-missing-services: configured services whose document could not be had

``OpenApiCache`` fetches the services' documents (with a timeout each) when first asked
and again when the merged document is older than ``openapi_refresh_seconds`` — or a few
seconds old while a service is missing, so a service that starts after the gateway shows
up soon. The merge itself is pure and tested on small fixture documents.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from relacja_servicekit.openapi import PROBLEM_SCHEMA

from .export import DISCLOSURES_SCOPE
from .export import ROUTE as EXPORT_ROUTE
from .routes import Audience, RouteTable

__all__ = ["COMPOSED_SCOPES", "PARTNER_SECURITY_SCHEME", "SECURITY_SCHEME", "OpenApiCache", "merge_documents"]

log = logging.getLogger(__name__)

SECURITY_SCHEME = "bearerAuth"
PARTNER_SECURITY_SCHEME = "partnerAuth"
#: (method, path) of operations the gateway composes → the scopes they need besides the
#: route's: the GDPR export also lists the disclosures, so it needs sharing:read (export.py).
COMPOSED_SCOPES: Mapping[tuple[str, str], tuple[str, ...]] = {("GET", EXPORT_ROUTE): (DISCLOSURES_SCOPE,)}
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_REF_PREFIX = "#/components/"
_MISSING_RETRY_SECONDS = 5.0

_PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_GATEWAY_COMPONENTS: dict[str, dict[str, Any]] = {
    "schemas": {
        "Problem": PROBLEM_SCHEMA,  # the services' own definition, so the merge keeps one
    },
    "headers": {
        "RateLimit": {
            "description": "Remaining quota and seconds until it is full again",
            "schema": {"type": "string"},
        },
        "RateLimit-Policy": {"description": "The caller's quota and its window", "schema": {"type": "string"}},
        "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}},
    },
    "responses": {
        "Unauthorized": {
            "description": "Missing or invalid access token (see WWW-Authenticate)",
            "content": _PROBLEM_CONTENT,
        },
        "Forbidden": {
            "description": "The access token lacks the scope this operation needs, or is a partner credential",
            "content": _PROBLEM_CONTENT,
        },
        "PartnerUnauthorized": {
            "description": "Missing, unknown or revoked API key, or an invalid token (see WWW-Authenticate)",
            "content": _PROBLEM_CONTENT,
        },
        "PartnerForbidden": {
            "description": (
                "A staff token instead of a partner credential, or the partner or the agreement is suspended "
                "(the problem names the state)"
            ),
            "content": _PROBLEM_CONTENT,
        },
        "TooManyRequests": {
            "description": "Rate limit reached",
            "headers": {
                name: {"$ref": f"#/components/headers/{name}"}
                for name in ("Retry-After", "RateLimit", "RateLimit-Policy")
            },
            "content": _PROBLEM_CONTENT,
        },
        "ServiceUnavailable": {
            "description": "The service behind the gateway is down, failing or not deployed",
            "headers": {"Retry-After": {"$ref": "#/components/headers/Retry-After"}},
            "content": _PROBLEM_CONTENT,
        },
    },
}
_SECURITY_SCHEMES: dict[Audience, dict[str, Any]] = {
    Audience.STAFF: {
        SECURITY_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "OAuth2 bearer JWT (RFC 6750) with scopes in `scope`; `admin` satisfies every scope.",
        }
    },
    Audience.PARTNER: {
        PARTNER_SECURITY_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "API key (rpk_…) or JWT",
            "description": (
                "The partner's API key (`Authorization: Bearer rpk_…`, shown once when it is created), or an "
                "OAuth2 client-credentials JWT carrying the partner's `partner_id` claim."
            ),
        }
    },
}


def _walk_refs(node: Any, rewrite: Callable[[str], str] | None = None, found: set[str] | None = None) -> Any:
    """Copy of ``node`` with every ``$ref`` passed through ``rewrite``; collects refs in ``found``."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                if found is not None:
                    found.add(value)
                out[key] = rewrite(value) if rewrite else value
            else:
                out[key] = _walk_refs(value, rewrite, found)
        return out
    if isinstance(node, list):
        return [_walk_refs(item, rewrite, found) for item in node]
    return node


def _renamer(renames: Mapping[str, Mapping[str, str]]) -> Callable[[str], str]:
    def rewrite(ref: str) -> str:
        if ref.startswith(_REF_PREFIX):
            section, _, name = ref[len(_REF_PREFIX) :].partition("/")
            new = renames.get(section, {}).get(name)
            if new is not None:
                return f"{_REF_PREFIX}{section}/{new}"
        return ref

    return rewrite


def _merge_components(
    merged: dict[str, dict[str, Any]], incoming: Mapping[str, Mapping[str, Any]], service: str
) -> dict[str, dict[str, str]]:
    """Add ``incoming`` to ``merged``; returns the renames ({section: {old: new}}) made.

    Renaming one component changes the content of those that refer to it, which may make
    them clash in turn, so clashes are looked for again until no new rename appears."""
    renames: dict[str, dict[str, str]] = {section: {} for section in incoming}
    while True:
        rewritten = _walk_refs(dict(incoming), _renamer(renames))
        new_renames = False
        for section, items in rewritten.items():
            existing = merged.get(section, {})
            for name, value in items.items():
                if name not in renames[section] and name in existing and existing[name] != value:
                    renames[section][name] = f"{service}.{name}"
                    new_renames = True
        if not new_renames:
            break
    for section, items in rewritten.items():
        for name, value in items.items():
            merged.setdefault(section, {})[renames[section].get(name, name)] = value
    return renames


def _operation_security(table: RouteTable, path: str, method: str) -> list[dict[str, list[str]]] | None:
    """None when the route table does not know the path (the gateway's own endpoints)."""
    route = table.match(path)
    if route is None:
        return None
    if route.audience is Audience.PARTNER:
        return [{PARTNER_SECURITY_SCHEME: []}]
    scope = route.required_scope(method, path)
    # One requirement holding several scopes means all of them (OpenAPI 3.1 §4.8.30): an
    # operation the gateway composes needs its route's scope and those it checks itself.
    return [] if scope is None else [{SECURITY_SCHEME: [scope, *COMPOSED_SCOPES.get((method, path), ())]}]


def _decorate(operation: dict[str, Any], security: list[dict[str, list[str]]] | None) -> None:
    operation["security"] = [] if security is None else security
    if security is None:
        return
    responses = operation.setdefault("responses", {})
    extra = {"429": "TooManyRequests", "503": "ServiceUnavailable"}
    if any(PARTNER_SECURITY_SCHEME in requirement for requirement in security):
        extra |= {"401": "PartnerUnauthorized", "403": "PartnerForbidden"}
    elif security:
        extra |= {"401": "Unauthorized", "403": "Forbidden"}
    for status, name in extra.items():
        responses.setdefault(status, {"$ref": f"#/components/responses/{name}"})


def _prune(document: dict[str, Any]) -> None:
    """Drop components nothing refers to (transitively from the paths)."""
    components = document.get("components", {})
    found: set[str] = set()
    _walk_refs(document.get("paths", {}), found=found)
    _walk_refs(document.get("webhooks", {}), found=found)
    seen: set[str] = set()
    while found - seen:
        ref = (found - seen).pop()
        seen.add(ref)
        if ref.startswith(_REF_PREFIX):
            section, _, name = ref[len(_REF_PREFIX) :].partition("/")
            _walk_refs(components.get(section, {}).get(name), found=found)
    for section, items in components.items():
        if section == "securitySchemes":
            continue
        for name in [n for n in items if f"{_REF_PREFIX}{section}/{n}" not in seen]:
            del items[name]
    document["components"] = {section: items for section, items in components.items() if items}


def merge_documents(
    gateway: Mapping[str, Any],
    services: Mapping[str, Mapping[str, Any]],
    table: RouteTable,
    *,
    missing: list[str] | tuple[str, ...] = (),
    audience: Audience = Audience.STAFF,
) -> dict[str, Any]:
    """The merged document; see the module docstring. Inputs are not modified."""
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {**copy.deepcopy(dict(gateway.get("info", {}))), "x-missing-services": sorted(missing)},
        "paths": {},
        "components": {},
    }
    if "webhooks" in gateway:
        merged["webhooks"] = copy.deepcopy(dict(gateway["webhooks"]))
    _merge_components(
        merged["components"], _GATEWAY_COMPONENTS | {"securitySchemes": _SECURITY_SCHEMES[audience]}, "gateway"
    )
    _merge_components(merged["components"], gateway.get("components", {}), "gateway")
    tags: dict[str, dict[str, Any]] = {tag["name"]: tag for tag in gateway.get("tags", [])}
    operation_ids: set[str] = set()

    def add_paths(paths: Mapping[str, Any], service: str | None, renames: Mapping[str, Mapping[str, str]]) -> None:
        for path, item in _walk_refs(dict(paths), _renamer(renames)).items():
            if path in merged["paths"]:
                continue  # the gateway's own operation, or an earlier service's
            if service is not None:
                route = table.match(path)
                if route is None or route.upstream != service or route.audience is not audience:
                    continue
            for method in _HTTP_METHODS:
                operation = item.get(method)
                if operation is None:
                    continue
                _decorate(operation, _operation_security(table, path, method.upper()))
                if service is not None:
                    operation["x-relacja-service"] = service
                op_id = operation.get("operationId")
                if op_id is not None:
                    if op_id in operation_ids:
                        operation["operationId"] = op_id = f"{service}.{op_id}"
                    operation_ids.add(op_id)
            merged["paths"][path] = item

    add_paths(gateway.get("paths", {}), None, {})
    for service in sorted(services):
        document = services[service]
        renames = _merge_components(merged["components"], document.get("components", {}), service)
        for tag in document.get("tags", []):
            tags.setdefault(tag["name"], tag)
        add_paths(document.get("paths", {}), service, renames)
    if tags:
        merged["tags"] = list(tags.values())
    _prune(merged)
    return merged


class OpenApiCache:
    """The merged document, fetched from the services when needed (see module docstring)."""

    def __init__(
        self,
        gateway_document: Callable[[], dict[str, Any]],
        table: RouteTable,
        upstreams: Mapping[str, str],
        *,
        partner_document: Callable[[], dict[str, Any]] = dict,
        refresh_seconds: float,
        fetch_timeout_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._gateway_document = gateway_document
        self._partner_document = partner_document
        self._table = table
        self._upstreams = dict(upstreams)
        self._refresh_seconds = refresh_seconds
        self._timeout = fetch_timeout_seconds
        self._clock = clock
        self._documents: dict[Audience, dict[str, Any]] = {}
        self._fetched_at = 0.0
        self._missing: list[str] = []
        self._lock = asyncio.Lock()

    def _stale(self) -> bool:
        if not self._documents:
            return True
        age = self._clock() - self._fetched_at
        return age >= self._refresh_seconds or (bool(self._missing) and age >= _MISSING_RETRY_SECONDS)

    async def get(
        self, client: httpx.AsyncClient, *, refresh: bool = False, audience: Audience = Audience.STAFF
    ) -> dict[str, Any]:
        if refresh or self._stale():
            async with self._lock:
                if refresh or self._stale():  # another request may have refreshed meanwhile
                    await self._refresh(client)
        return self._documents[audience]

    async def _refresh(self, client: httpx.AsyncClient) -> None:
        names = sorted(self._upstreams)
        fetched = await asyncio.gather(*(self._fetch(client, name) for name in names))
        documents = {name: doc for name, doc in zip(names, fetched, strict=True) if doc is not None}
        self._missing = [name for name, doc in zip(names, fetched, strict=True) if doc is None]
        partner_services = {route.upstream for route in self._table if route.audience is Audience.PARTNER}
        self._documents = {
            Audience.STAFF: merge_documents(self._gateway_document(), documents, self._table, missing=self._missing),
            Audience.PARTNER: merge_documents(
                self._partner_document(),
                {name: doc for name, doc in documents.items() if name in partner_services},
                self._table,
                missing=[name for name in self._missing if name in partner_services],
                audience=Audience.PARTNER,
            ),
        }
        self._fetched_at = self._clock()

    async def _fetch(self, client: httpx.AsyncClient, name: str) -> dict[str, Any] | None:
        try:
            response = await client.get(f"{self._upstreams[name]}/openapi.json", timeout=self._timeout)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("no OpenAPI document from %s: %s", name, type(exc).__name__)
            return None
        return document if isinstance(document, dict) and isinstance(document.get("paths"), dict) else None
