"""The access matrix: every operation of the merged OpenAPI × every scope there is.

The scopes come from the gateway's route table (``relacja_gateway.routes.ROUTES``): for
each area its ``:read``, ``:write`` and the route's own write scope (``sharing:admin``),
plus ``admin``. The operations come from the merged documents the gateway serves
(``/openapi.json`` for staff, ``/partner/openapi.json`` for partners), and each
operation's ``security`` is what the documentation promises. For every pair the real
gateway process must:

    the documented scope(s), or admin  let the call through (the service answers)
    any other scope                    403 insufficient-scope naming a documented scope
                                       it lacks
    no token                           401 (a public operation: let through)
    a partner's token                  403 staff-credential-required (staff operations);
                                       let through on /partner/v1 only
    HEAD like GET, OPTIONS like a write

"Let through" is told by the answer not being one of the gateway's refusals. Calls that
are let through carry an undeclared query parameter, which every service refuses with 400
before any handler runs (relacja_servicekit.validation), so the matrix changes nothing in
the stack. What a service itself allows per record — a partner's own agreements (BOLA),
a sales rep's own opportunities — is tested in tests/e2e/test_partner_bola.py and
tests/e2e/test_sales_access.py.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from relacja_devstack import Stack
from relacja_gateway.routes import READ_METHODS, ROUTES, RouteTable

from .conftest import partner_token, staff_token

pytestmark = pytest.mark.stack

GATEWAY_REFUSALS = {
    "authentication-required",
    "insufficient-scope",
    "invalid-token",
    "staff-credential-required",
    "partner-credential-required",
}
_METHODS = ("get", "post", "put", "patch", "delete")
_PROBE = {"zz_access_matrix_probe": "1"}  # undeclared: the services answer 400 and do nothing
_PARAMETER = re.compile(r"\{[^}]+\}")


def every_scope() -> list[str]:
    scopes = {"admin"}
    for route in ROUTES:
        if route.area is not None:
            scopes |= {f"{route.area}:read", f"{route.area}:write", f"{route.area}:{route.write_scope}"}
    return sorted(scopes)


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    documented: frozenset[str]  # every scope it needs; empty for a public or a partner operation
    partner: bool

    @property
    def path(self) -> str:
        return _PARAMETER.sub(lambda _: str(uuid.uuid4()), self.template)

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


def operations(document: dict[str, Any]) -> list[Operation]:
    found = []
    for template, item in document["paths"].items():
        if not template.startswith(("/api/", "/partner/")):
            continue  # /healthz, /readyz, /metrics: the gateway's own, public
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            security = operation.get("security")
            assert security is not None, f"{method.upper()} {template} documents no security"
            partner = any("partnerAuth" in requirement for requirement in security)
            # one requirement listing several scopes needs them all (OpenAPI 3.1 §4.8.30)
            assert len(security) <= 1, f"{method.upper()} {template}: alternatives are not used here: {security}"
            scopes = frozenset(scope for requirement in security for scope in requirement.get("bearerAuth", []))
            found.append(Operation(method.upper(), template, scopes, partner))
            if method == "get":  # HEAD is a read as well; the gateway decides it as GET
                found.append(Operation("HEAD", template, scopes, partner))
    return found


def _refusal(response: httpx.Response, partner: bool = False) -> str | None:
    if response.status_code not in (401, 403) or "problem+json" not in response.headers.get("content-type", ""):
        return None
    if response.request.method == "HEAD":
        # no body: the kind is told by the RFC 6750 challenge (docs/security.md)
        challenge = response.headers.get("www-authenticate", "")
        if response.status_code == 401:
            return "invalid-token" if 'error="invalid_token"' in challenge else "authentication-required"
        if 'error="insufficient_scope"' in challenge:
            return "insufficient-scope"
        return "partner-credential-required" if partner else "staff-credential-required"
    kind = str(response.json().get("type", "")).rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    return kind if kind in GATEWAY_REFUSALS else None


def _named_scope(response: httpx.Response) -> str | None:
    if response.request.method == "HEAD":
        found = re.search(r'scope="([^"]+)"', response.headers.get("www-authenticate", ""))
        return found.group(1) if found else None
    return response.json().get("required_scope")


def expected(operation: Operation, credential: str) -> str | None:
    """The gateway's refusal for ``credential`` ("anonymous", "partner" or a scope); None
    when the call must get through."""
    if operation.partner:
        if credential == "anonymous":
            return "authentication-required"
        return None if credential == "partner" else "partner-credential-required"
    if credential == "partner":
        return "staff-credential-required"
    if not operation.documented:
        return None
    if credential == "anonymous":
        return "authentication-required"
    held = frozenset(credential.split())
    return None if "admin" in held or operation.documented <= held else "insufficient-scope"


async def _matrix(stack: Stack, ops: list[Operation], scopes: list[str]) -> list[str]:
    """Each operation with each single scope, its documented scopes together, no token and
    a partner's token; the cells that differ from ``expected``."""
    combined = sorted({" ".join(sorted(op.documented)) for op in ops if len(op.documented) > 1})
    credentials = [*scopes, *combined]
    tokens = {
        scope: staff_token(stack, scope.split(), subject=f"matrix-{scope.replace(' ', '+')}") for scope in credentials
    }
    tokens["partner"] = partner_token(stack)
    gate = asyncio.Semaphore(12)
    failures: list[str] = []

    async def call(client: httpx.AsyncClient, operation: Operation, credential: str) -> None:
        headers = {} if credential == "anonymous" else {"Authorization": f"Bearer {tokens[credential]}"}
        async with gate:
            response = await client.request(operation.method, operation.path, params=_PROBE, headers=headers)
        if operation.method == "HEAD" and response.status_code == 405:
            return  # the gateway's own GET routes (the export) take no HEAD: nothing is served
        got, want = _refusal(response, operation.partner), expected(operation, credential)
        if got != want:
            failures.append(
                f"{operation} as {credential}: {response.status_code} {got or 'let through'}, want {want or 'let through'}"
            )
        elif want == "insufficient-scope":
            named = _named_scope(response)
            if named not in operation.documented - set(credential.split()):
                failures.append(f"{operation} as {credential}: the 403 names {named}, the docs {operation.documented}")
        if response.status_code >= 500:
            failures.append(f"{operation} as {credential}: {response.status_code} {response.text[:200]}")

    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=60) as client:
        await asyncio.gather(
            *(call(client, op, credential) for op in ops for credential in [*credentials, "anonymous", "partner"])
        )
    return failures


def test_the_documents_cover_the_route_table(merged_openapi: dict[str, Any], partner_openapi: dict[str, Any]) -> None:
    """Every route the gateway forwards has operations in the documents, and every
    documented path is one the gateway forwards, under the scope its route table gives."""
    table = RouteTable(ROUTES)
    ops = operations(merged_openapi) + operations(partner_openapi)
    covered: Counter[str] = Counter()
    for operation in ops:
        path = operation.path
        route = table.match(path)
        if route is None:  # the gateway's own operations (/api/v1/customers/{id}/360, /export) sit under a route too
            raise AssertionError(f"{operation} is documented but the gateway routes no prefix of it")
        covered[route.prefix] += 1
        if not operation.partner:
            assert route.required_scope(operation.method, path) in operation.documented | {None}, operation
    assert {route.prefix for route in ROUTES} <= set(covered), {route.prefix for route in ROUTES} - set(covered)


async def test_exactly_the_documented_scope_grants_each_staff_operation(
    stack: Stack, merged_openapi: dict[str, Any]
) -> None:
    ops = operations(merged_openapi)
    assert len(ops) > 150, len(ops)  # the whole suite, not a stub document
    failures = await _matrix(stack, ops, every_scope())
    assert not failures, f"{len(failures)} cells of the matrix are wrong:\n" + "\n".join(sorted(failures)[:60])


async def test_the_partner_api_takes_partner_credentials_only(stack: Stack, partner_openapi: dict[str, Any]) -> None:
    ops = operations(partner_openapi)
    assert ops and all(op.partner for op in ops)
    failures = await _matrix(stack, ops, every_scope())
    assert not failures, f"{len(failures)} cells of the matrix are wrong:\n" + "\n".join(sorted(failures)[:60])


@pytest.mark.parametrize("scope_kind", ["read", "write"])
async def test_options_counts_as_a_write(stack: Stack, scope_kind: str) -> None:
    """OPTIONS is not a read (routes.READ_METHODS): a read-only token cannot use it to
    probe a service's write endpoints."""
    assert "OPTIONS" not in READ_METHODS
    token = staff_token(stack, [f"customers:{scope_kind}"])
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        response = await client.options("/api/v1/customers", headers={"Authorization": f"Bearer {token}"})
    assert (_refusal(response) == "insufficient-scope") == (scope_kind == "read"), response.text
