"""Header filtering across the gateway: hop-by-hop fields, identity, forwarding, tracing."""

from __future__ import annotations

from relacja_gateway.auth import Principal
from relacja_gateway.headers import downstream_response_headers, upstream_request_headers, without_hop_by_hop

ALICE = Principal("alice", "user", frozenset({"customers:write", "customers:read"}))


def names(headers: list[tuple[str, str]]) -> list[str]:
    return [name.lower() for name, _ in headers]


def forward(incoming: list[tuple[str, str]], principal: Principal | None = ALICE) -> list[tuple[str, str]]:
    return upstream_request_headers(
        incoming,
        principal=principal,
        request_id="rid-1",
        traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01",
        client_host="203.0.113.7",
        scheme="https",
    )


def values(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in headers if key.lower() == name.lower()]


def test_hop_by_hop_fields_are_dropped() -> None:
    headers = [
        ("Connection", "keep-alive"),
        ("Keep-Alive", "timeout=5"),
        ("Proxy-Connection", "keep-alive"),
        ("Proxy-Authorization", "Basic x"),
        ("Proxy-Authenticate", "Basic"),
        ("TE", "trailers"),
        ("Trailer", "X-Sum"),
        ("Transfer-Encoding", "chunked"),
        ("Upgrade", "websocket"),
        ("Accept", "application/json"),
    ]
    assert without_hop_by_hop(headers) == [("Accept", "application/json")]


def test_fields_named_by_connection_are_dropped() -> None:
    headers = [
        ("Connection", "X-Secret-Hop, x-other"),
        ("connection", "X-Third"),
        ("X-Secret-Hop", "1"),
        ("X-Other", "2"),
        ("x-third", "3"),
        ("X-Kept", "4"),
    ]
    assert without_hop_by_hop(headers) == [("X-Kept", "4")]


def test_end_to_end_fields_are_kept_in_order_with_duplicates() -> None:
    incoming = [
        ("accept", "a/b"),
        ("cookie", "a=1"),
        ("cookie", "b=2"),
        ("if-match", '"v1"'),
        ("content-type", "application/json"),
    ]
    kept = [pair for pair in forward(incoming) if pair[0] in {"accept", "cookie", "if-match", "content-type"}]
    assert kept == incoming


def test_spoofed_identity_headers_are_dropped_in_any_case() -> None:
    incoming = [
        ("X-Relacja-Principal", "mallory"),
        ("x-relacja-scopes", "admin"),
        ("X-RELACJA-PRINCIPAL-KIND", "partner"),
        ("X-Relacja-Anything-New", "1"),
    ]
    headers = forward(incoming, principal=None)
    assert not [name for name in names(headers) if name.startswith("x-relacja-")]


def test_identity_headers_come_from_the_principal() -> None:
    headers = forward([("x-relacja-principal", "mallory"), ("X-Relacja-Scopes", "admin")])
    assert values(headers, "X-Relacja-Principal") == ["alice"]
    assert values(headers, "X-Relacja-Principal-Kind") == ["user"]
    assert values(headers, "X-Relacja-Scopes") == ["customers:read customers:write"]


def test_team_and_roles_travel_only_when_the_token_has_them() -> None:
    rep = Principal("rep-a", "user", frozenset({"sales:read"}), "north", frozenset({"sales_team_lead", "x"}))
    headers = forward([("X-Relacja-Team", "south"), ("x-relacja-roles", "sales_manager")], principal=rep)
    assert values(headers, "X-Relacja-Team") == ["north"]
    assert values(headers, "X-Relacja-Roles") == ["sales_team_lead x"]
    plain = forward([("X-Relacja-Team", "south"), ("x-relacja-roles", "sales_manager")])
    assert values(plain, "X-Relacja-Team") == [] and values(plain, "X-Relacja-Roles") == []


def test_credentials_and_host_stop_at_the_gateway() -> None:
    headers = forward([("authorization", "Bearer t"), ("host", "api.example.com"), ("expect", "100-continue")])
    assert not {"authorization", "host", "expect"} & set(names(headers))
    assert values(headers, "X-Forwarded-Host") == ["api.example.com"]


def test_forwarding_headers_are_replaced_not_trusted() -> None:
    headers = forward(
        [
            ("x-forwarded-for", "10.0.0.1"),
            ("Forwarded", "for=10.0.0.1"),
            ("X-Forwarded-Proto", "http"),
            ("x-forwarded-host", "evil.example"),
        ]
    )
    assert values(headers, "X-Forwarded-For") == ["203.0.113.7"]
    assert values(headers, "X-Forwarded-Proto") == ["https"]
    assert values(headers, "X-Forwarded-Host") == []
    assert "forwarded" not in names(headers)


def test_request_id_and_traceparent_come_from_the_context() -> None:
    headers = forward([("x-request-id", "client-value"), ("traceparent", "00-" + "c" * 32 + "-" + "d" * 16 + "-01")])
    assert values(headers, "X-Request-ID") == ["rid-1"]
    assert values(headers, "traceparent") == ["00-" + "a" * 32 + "-" + "b" * 16 + "-01"]


def test_response_headers_drop_hop_by_hop_and_what_the_gateway_writes_itself() -> None:
    upstream = [
        ("content-type", "application/json"),
        ("Connection", "close, X-Hop"),
        ("X-Hop", "1"),
        ("Transfer-Encoding", "chunked"),
        ("Keep-Alive", "timeout=5"),
        ("Server", "uvicorn"),
        ("Date", "x"),
        ("X-Request-ID", "upstream"),
        ("traceparent", "t"),
        ("set-cookie", "a=1"),
        ("set-cookie", "b=2"),
        ("ETag", '"v2"'),
    ]
    assert downstream_response_headers(upstream) == [
        ("content-type", "application/json"),
        ("set-cookie", "a=1"),
        ("set-cookie", "b=2"),
        ("ETag", '"v2"'),
    ]
