"""Which headers cross the gateway, in each direction.

Client → service (``upstream_request_headers``):

    dropped   hop-by-hop fields (below), Host, Expect, Authorization,
              every X-Relacja-* field, Forwarded and X-Forwarded-*,
              X-Request-ID and traceparent
    set       X-Relacja-Principal, X-Relacja-Principal-Kind, X-Relacja-Scopes (if authenticated),
              X-Relacja-Partner-Id (a partner: the only partner identity services trust),
              X-Relacja-Team and X-Relacja-Roles (if the token has ``team`` / ``roles`` claims),
              X-Request-ID and traceparent of this request (servicekit context),
              X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host
    kept      everything else, in order, duplicates included

Service → client (``downstream_response_headers``): hop-by-hop fields, and the fields the
gateway's own stack writes (X-Request-ID and traceparent by the request middleware, Date
and Server by uvicorn), are dropped so each appears once.

Hop-by-hop fields describe one connection, not the message, so a proxy removes them:
Connection, every field Connection names, and the fields that are only meaningful per hop
(https://www.rfc-editor.org/rfc/rfc9110#section-7.6.1). Proxy-Connection is not standard
but old clients still send it.

Identity headers are the only thing services trust about the caller, so the gateway
removes whatever a client sent under the X-Relacja- prefix (any letter case) and writes
its own. Credentials stop at the gateway: services never see the bearer token. The
gateway is the edge, so client-sent forwarding headers are replaced, not appended to.
"""

from __future__ import annotations

from collections.abc import Iterable

from .auth import Principal

__all__ = [
    "HOP_BY_HOP",
    "IDENTITY_PREFIX",
    "PARTNER_ID_HEADER",
    "PRINCIPAL_HEADER",
    "PRINCIPAL_KIND_HEADER",
    "SCOPES_HEADER",
    "TEAM_HEADER",
    "ROLES_HEADER",
    "HeaderList",
    "without_hop_by_hop",
    "upstream_request_headers",
    "downstream_response_headers",
]

HeaderList = list[tuple[str, str]]

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

IDENTITY_PREFIX = "x-relacja-"
PRINCIPAL_HEADER = "X-Relacja-Principal"
PRINCIPAL_KIND_HEADER = "X-Relacja-Principal-Kind"
SCOPES_HEADER = "X-Relacja-Scopes"
PARTNER_ID_HEADER = "X-Relacja-Partner-Id"
TEAM_HEADER = "X-Relacja-Team"
ROLES_HEADER = "X-Relacja-Roles"

# Expect: httpx sends the body without waiting for 100 Continue, and uvicorn has already
# answered the client's expectation (RFC 9110 §10.1.1), so forwarding it would be a lie.
_REPLACED_ON_REQUEST = frozenset(
    {
        "host",
        "expect",
        "authorization",
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-forwarded-port",
        "x-request-id",
        "traceparent",
    }
)
_REPLACED_ON_RESPONSE = frozenset({"x-request-id", "traceparent", "date", "server"})


def without_hop_by_hop(headers: Iterable[tuple[str, str]]) -> HeaderList:
    """``headers`` minus the hop-by-hop fields, including those the Connection field names."""
    headers = list(headers)
    named = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == "connection"
        for token in value.split(",")
        if token.strip()
    }
    dropped = HOP_BY_HOP | named
    return [(name, value) for name, value in headers if name.lower() not in dropped]


def upstream_request_headers(
    incoming: Iterable[tuple[str, str]],
    *,
    principal: Principal | None,
    request_id: str | None,
    traceparent: str | None,
    client_host: str | None,
    scheme: str,
) -> HeaderList:
    incoming = list(incoming)
    host = next((value for name, value in incoming if name.lower() == "host"), None)
    headers = [
        (name, value)
        for name, value in without_hop_by_hop(incoming)
        if name.lower() not in _REPLACED_ON_REQUEST and not name.lower().startswith(IDENTITY_PREFIX)
    ]
    if principal is not None:
        headers += [
            (PRINCIPAL_HEADER, principal.id),
            (PRINCIPAL_KIND_HEADER, principal.kind),
            (SCOPES_HEADER, " ".join(sorted(principal.scopes))),
        ]
        if principal.kind == "partner":
            headers.append((PARTNER_ID_HEADER, principal.id))
        if principal.team is not None:
            headers.append((TEAM_HEADER, principal.team))
        if principal.roles:
            headers.append((ROLES_HEADER, " ".join(sorted(principal.roles))))
    if request_id:
        headers.append(("X-Request-ID", request_id))
    if traceparent:
        headers.append(("traceparent", traceparent))
    if client_host:
        headers.append(("X-Forwarded-For", client_host))
    headers.append(("X-Forwarded-Proto", scheme))
    if host:
        headers.append(("X-Forwarded-Host", host))
    return headers


def downstream_response_headers(upstream: Iterable[tuple[str, str]]) -> HeaderList:
    return [(name, value) for name, value in without_hop_by_hop(upstream) if name.lower() not in _REPLACED_ON_RESPONSE]
