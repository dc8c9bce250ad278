"""Hostile input through the stack's gateway: always a 4xx, never a 500, never a stack trace.

    oversized bodies          Content-Length over the limit, and a chunked body without one
    deep nesting              10,000 levels of arrays and of objects, on every JSON operation
    huge arrays               a top-level array and a field value of a quarter million items
    numbers beyond 64 bits    2^64, -2^63-1, 10^30, 5,000 digits, 1e999, NaN, Infinity: in every
                              integer query parameter and every numeric body property
    invalid UTF-8             in JSON bodies, import bodies, paths, query strings, headers
    CR/LF injection           raw CR or LF in header values (the HTTP parser refuses them);
                              percent-encoded CR/LF in paths and query values that reach the
                              access logs and the problem documents: no new header, no forged
                              log line

The operations come from the merged OpenAPI, so a new service is attacked as soon as the
gateway routes it. Bodies go to operations with made-up ids, so nothing is created.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from relacja_devstack import Stack

from .conftest import assert_no_trace, assert_problem, staff_token

pytestmark = pytest.mark.stack

_BODY_METHODS = ("post", "put", "patch")
_PARAMETER = re.compile(r"\{[^}]+\}")
BEYOND_64_BITS = ["18446744073709551616", "-9223372036854775809", "1" + "0" * 30, "9" * 5000]
BAD_NUMBERS = [*BEYOND_64_BITS, "1e999", "-1e999", "NaN", "Infinity", "-Infinity"]


@pytest.fixture(scope="module")
def admin(stack: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {staff_token(stack, ['admin'], subject='input-attacks')}"}


def _path(template: str) -> str:
    return _PARAMETER.sub(lambda _: str(uuid.uuid4()), template)


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _kinds(document: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    schema = _resolve(document, schema)
    kinds = {schema["type"]} if isinstance(schema.get("type"), str) else set(schema.get("type", []))
    for alternative in schema.get("anyOf", []) + schema.get("oneOf", []):
        kinds |= _kinds(document, alternative)
    return kinds


def json_operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, template, body schema) of every operation taking a JSON body."""
    for template, item in document["paths"].items():
        for method in _BODY_METHODS:
            body = item.get(method, {}).get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                yield method.upper(), template, _resolve(document, body.get("schema", {}))


async def _send_all(
    requests: list[tuple[str, str, dict[str, Any]]], headers: dict[str, str], stack: Stack
) -> list[str]:
    """Send each (method, path, httpx kwargs); the ones answered 5xx, not with a problem,
    or with internals in the body."""
    gate = asyncio.Semaphore(8)
    failures: list[str] = []

    async def one(client: httpx.AsyncClient, method: str, path: str, kwargs: dict[str, Any]) -> None:
        async with gate:
            response = await client.request(method, path, headers=headers | kwargs.pop("headers", {}), **kwargs)
        if response.status_code >= 500 or not 400 <= response.status_code < 500:
            failures.append(f"{method} {path}: {response.status_code} {response.text[:300]}")
            return
        if not response.headers.get("content-type", "").startswith("application/problem+json"):
            failures.append(f"{method} {path}: {response.status_code} is not a problem document")
        try:
            assert_no_trace(response)
        except AssertionError as exc:
            failures.append(f"{method} {path}: {exc}")

    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=60) as client:
        await asyncio.gather(*(one(client, method, path, kwargs) for method, path, kwargs in requests))
    return failures


# -- sizes ----------------------------------------------------------------------------------


async def test_a_body_over_the_limit_is_413(anonymous: httpx.AsyncClient, admin: dict[str, str]) -> None:
    big = b'{"display_name": "' + b"x" * 2_000_000 + b'"}'
    response = await anonymous.post(
        "/api/v1/customers", content=big, headers=admin | {"content-type": "application/json"}
    )
    assert_problem(response, 413)


async def test_a_chunked_body_over_the_limit_is_413(anonymous: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """No Content-Length to check up front: the limit is counted as the body streams."""

    async def chunks() -> Any:
        yield b'{"display_name": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    response = await anonymous.post(
        "/api/v1/customers", content=chunks(), headers=admin | {"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413)


async def test_deep_nesting_on_every_json_operation(
    stack: Stack, merged_openapi: dict[str, Any], admin: dict[str, str]
) -> None:
    deep_arrays = b"[" * 10_000 + b"]" * 10_000
    deep_objects = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
    wrapped = b'{"items":' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    requests = [
        (method, _path(template), {"content": body, "headers": {"content-type": "application/json"}})
        for method, template, _ in json_operations(merged_openapi)
        for body in (deep_arrays, deep_objects, wrapped)
    ]
    assert len(requests) > 150
    failures = await _send_all(requests, admin, stack)
    assert not failures, "\n".join(failures[:40])


async def test_huge_arrays_on_every_json_operation(
    stack: Stack, merged_openapi: dict[str, Any], admin: dict[str, str]
) -> None:
    """Just under the 1 MiB body limit: the array is parsed, then refused by validation
    (every list in the API has a bound), not stored or echoed."""
    huge = b"[" + b"0," * 250_000 + b"0]"
    requests = []
    for method, template, schema in json_operations(merged_openapi):
        path = _path(template)
        requests.append((method, path, {"content": huge, "headers": {"content-type": "application/json"}}))
        for name, field in _resolve(merged_openapi, schema).get("properties", {}).items():
            if "array" in _kinds(merged_openapi, field):
                body = b'{"' + name.encode() + b'":' + huge + b"}"
                requests.append((method, path, {"content": body, "headers": {"content-type": "application/json"}}))
    failures = await _send_all(requests, admin, stack)
    assert not failures, "\n".join(failures[:40])


# -- numbers --------------------------------------------------------------------------------


async def test_numbers_beyond_64_bits_in_query_parameters(
    stack: Stack, merged_openapi: dict[str, Any], admin: dict[str, str]
) -> None:
    requests = []
    for template, item in merged_openapi["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and _kinds(merged_openapi, parameter.get("schema", {})) & {
                    "integer",
                    "number",
                }:
                    for value in BAD_NUMBERS:
                        requests.append((method.upper(), _path(template), {"params": {parameter["name"]: value}}))
    assert requests, "no integer query parameter found: the walk is broken"
    failures = await _send_all(requests, admin, stack)
    assert not failures, "\n".join(failures[:40])


async def test_numbers_beyond_64_bits_in_bodies(
    stack: Stack, merged_openapi: dict[str, Any], admin: dict[str, str]
) -> None:
    """Each numeric property of each JSON body, alone, set to a number no column holds
    (written into the JSON text literally: NaN and 1e999 are what Python's parser accepts)."""
    requests = []
    for method, template, schema in json_operations(merged_openapi):
        numeric = [
            name
            for name, field in _resolve(merged_openapi, schema).get("properties", {}).items()
            if _kinds(merged_openapi, field) & {"integer", "number"}
        ]
        for name in numeric:
            for value in BAD_NUMBERS:
                body = ('{"' + name + '":' + value + "}").encode()
                requests.append(
                    (method, _path(template), {"content": body, "headers": {"content-type": "application/json"}})
                )
    assert len(requests) > 20, "too few numeric properties found: the walk is broken"
    failures = await _send_all(requests, admin, stack)
    assert not failures, "\n".join(failures[:40])


async def test_numbers_beyond_64_bits_in_real_writes(anonymous: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """The same numbers in otherwise valid writes, so they get past validation's other
    checks to the fields' own bounds."""
    customer = await anonymous.post(
        "/api/v1/customers", json={"kind": "person", "display_name": "Big numbers"}, headers=admin
    )
    assert customer.status_code == 201, customer.text
    path = f"/api/v1/customers/{customer.json()['id']}"
    for value in BAD_NUMBERS:
        body = '{"kind": "birthday", "month": 1, "day": 2, "year": ' + value + "}"
        response = await anonymous.post(
            f"{path}/important-dates", content=body, headers=admin | {"content-type": "application/json"}
        )
        assert_problem(response, 400, 422)
    for value in BEYOND_64_BITS:
        response = await anonymous.get("/api/v1/customers", params={"limit": value}, headers=admin)
        assert_problem(response, 400)


# -- encodings ------------------------------------------------------------------------------


async def test_invalid_utf8_in_json_bodies(stack: Stack, merged_openapi: dict[str, Any], admin: dict[str, str]) -> None:
    # A byte order mark before valid JSON may be ignored (RFC 8259 §8.1; Python's json does), so
    # `BOM + {}` is a valid empty body (200 where every field is optional, e.g. a recomputation);
    # what must be refused is invalid UTF-8 behind the BOM.
    bodies = [
        b'{"display_name": "\xff\xfe"}',
        b'{"\xc3\x28": 1}',
        b'\xef\xbb\xbf{"display_name": "\xc3\x28"}',
        b'"\xed\xa0\x80"',
    ]
    requests = [
        (method, _path(template), {"content": body, "headers": {"content-type": "application/json"}})
        for method, template, _ in json_operations(merged_openapi)
        for body in bodies
    ]
    failures = await _send_all(requests, admin, stack)
    assert not failures, "\n".join(failures[:40])


@pytest.mark.parametrize("service", ["customers", "orders"])
async def test_invalid_utf8_in_an_import_body_fails_the_job_not_the_server(
    anonymous: httpx.AsyncClient, admin: dict[str, str], service: str
) -> None:
    header = {"customers": b"external_id,kind,display_name\n", "orders": b"external_id,customer_id,placed_at\n"}
    body = header[service] + b"abc,\xff\xfe,\xc3\x28\n"
    response = await anonymous.post(
        f"/api/v1/{service}/imports", content=body, headers=admin | {"content-type": "text/csv"}
    )
    assert response.status_code < 500, response.text
    assert_no_trace(response)
    if response.status_code == 202:
        assert response.json()["status"] == "failed" and "UTF-8" in response.json()["failure"], response.text


def _raw(stack: Stack, request: bytes) -> bytes:
    """One request over a plain socket: what a client that ignores the HTTP rules sends."""
    host, port = stack.gateway_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def _head_of(answer: bytes) -> tuple[int, list[bytes]]:
    head = answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    return int(head[0].split()[1]), [line.lower() for line in head[1:]]


@pytest.mark.parametrize(
    "line",
    [
        b"X-Request-ID: abc\rX-Injected: 1",
        b"X-Request-ID: abc\nX-Injected: 1",
        b"Idempotency-Key: a\x00b",
        b"traceparent: 00-\r X-Injected: 1",
    ],
)
async def test_raw_cr_lf_or_nul_in_a_header_value_is_400(stack: Stack, admin: dict[str, str], line: bytes) -> None:
    request = (
        b"GET /api/v1/customers?limit=1 HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n"
        + f"Authorization: {admin['Authorization']}\r\n".encode()
        + line
        + b"\r\n\r\n"
    )
    status, headers = _head_of(await asyncio.to_thread(_raw, stack, request))
    assert status == 400
    assert not any(h.startswith(b"x-injected") for h in headers)


@pytest.mark.parametrize(
    "target",
    [b"/api/v1/customers/\xff\xfe", b"/api/v1/customers?tag=\xff", b"/api/v1/cust\x00omers"],
)
async def test_raw_invalid_bytes_in_the_request_target_are_400(
    stack: Stack, admin: dict[str, str], target: bytes
) -> None:
    request = (
        b"GET "
        + target
        + b" HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n"
        + f"Authorization: {admin['Authorization']}\r\n\r\n".encode()
    )
    status, _ = _head_of(await asyncio.to_thread(_raw, stack, request))
    assert status == 400


async def test_headers_that_reach_answers_and_logs_are_validated(
    anonymous: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """X-Request-ID and traceparent are echoed in answers and written to every log line:
    a value that is not a plain token or a W3C traceparent is replaced, not reflected."""
    hostile = {"X-Request-ID": "a" * 300 + '"},{"level":"critical', "traceparent": "00-zz-<script>-01"}
    response = await anonymous.get("/api/v1/customers", params={"limit": 1}, headers=admin | hostile)
    assert response.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"]), response.headers["x-request-id"]
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}", response.headers["traceparent"])


async def test_encoded_cr_lf_reaches_no_header_and_forges_no_log_line(
    stack: Stack, anonymous: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    marker = uuid.uuid4().hex
    forged = f'\r\n{{"level": "info", "message": "forged {marker}"}}\r\nSet-Cookie: session={marker}'
    encoded = "/api/v1/customers/" + quote(forged, safe="")
    responses = [
        await anonymous.get(encoded, headers=admin),
        await anonymous.get("/api/v1/customers", params={"tag": forged}, headers=admin),
        await anonymous.get("/api/v1/tickets", params={"q": forged}, headers=admin),
        await anonymous.get("/api/v1/nowhere/" + marker + "%0d%0aSet-Cookie:%20a=b", headers=admin),
    ]
    # a CR/LF in a query value is legitimate data (a tag filter that matches nothing: 200);
    # in a path it names no resource (4xx)
    for response in responses:
        assert response.status_code < 500, response.text
        assert "set-cookie" not in response.headers
        assert marker not in "".join(f"{k}: {v}" for k, v in response.headers.items())
        assert_no_trace(response)
    await asyncio.sleep(1.0)  # the access log line is written when the answer is sent
    for service in ("gateway", "customers", "tickets"):
        for line in stack.service_log(service).read_text(errors="replace").splitlines():
            if marker in line:
                record = json.loads(line)  # one JSON object per line: the CR/LF stayed escaped
                assert record.get("message") != f"forged {marker}", line
