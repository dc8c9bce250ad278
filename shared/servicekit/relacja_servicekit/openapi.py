"""Problem answers in the OpenAPI document: declared once, with their real status and schema.

A route names only the problems that are its own business:

    @router.post("/orders/{id}/cancel", responses=problem_responses(404, 409, {422: "Refund not possible"}))

and :func:`install_problem_openapi` completes every operation with what the shared
machinery answers on any route, so the document tells the truth without each route
repeating it:

    every operation      400 invalid-parameter (unknown or malformed query, path or header
                         parameter; app.py rejects unknown query parameters everywhere)
                         503 dependency-unavailable (with Retry-After)
    with a body          413 body-too-large, 415 unsupported-media-type,
                         422 validation-error (FastAPI's own 422 ``HTTPValidationError``
                         is removed: the service never answers with that shape)
    with path params     404 not-found
    with If-Match        412 precondition-failed, 428 precondition-required
    with Idempotency-Key 409 idempotency-in-progress, 422 idempotency-key-reused

Every response of status 400 and above is ``application/problem+json`` with the
:data:`PROBLEM_SCHEMA` (RFC 9457 plus ``errors`` and ``request_id``).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from .problems import PROBLEM_JSON

__all__ = [
    "PROBLEM_SCHEMA",
    "PROBLEM_CONTENT",
    "problem_responses",
    "install_problem_openapi",
    "complete_problem_responses",
]

#: RFC 9457 problem details as this suite answers them (also the gateway's ``Problem``).
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {
            "type": "string",
            "description": "A URN naming the kind of problem, e.g. urn:relacja:problem:not-found",
        },
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "The request path"},
        "request_id": {"type": "string", "description": "Quote it to support"},
        "errors": {
            "type": "array",
            "description": "For validation problems: each field (location.path) and what is wrong with it",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "required": ["field", "message"],
            },
        },
    },
    "required": ["type", "title", "status"],
}

PROBLEM_CONTENT: dict[str, Any] = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}

_DESCRIPTIONS: dict[int, str] = {
    400: "Invalid parameter: an unknown or malformed query, path or header parameter, or a bad cursor",
    401: "Unauthorized",
    403: "Forbidden",
    404: "No such resource",
    409: "Conflict with the resource's current state",
    410: "Gone",
    412: "If-Match does not match the current ETag (the current one is in ETag)",
    413: "Request body too large",
    415: "Content-Type is not application/json",
    422: "The body fails validation (errors name each field) or breaks a business rule",
    428: "If-Match is required",
    429: "Too many requests",
    503: "A dependency (database, broker, another service) is unreachable; nothing was changed. Retry after Retry-After",
}

_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}}
_HTTP_METHODS = ("get", "put", "post", "delete", "patch")


def _response(status: int, description: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description or _DESCRIPTIONS.get(status, "Error"),
        "content": PROBLEM_CONTENT,
    }
    if status == 503:
        response["headers"] = _RETRY_AFTER
    return response


def problem_responses(*statuses: int | dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status as a problem, with the standard description or
    the route's own (``{409: "The order is already cancelled"}``)."""
    declared: dict[int | str, dict[str, Any]] = {}
    for item in statuses:
        described = item if isinstance(item, dict) else {item: None}
        for status, description in described.items():
            declared[status] = _response(status, description)
    return declared


def _parameters(operation: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in operation.get("parameters", []) if isinstance(p, dict)]


def _is_validation_error(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    ref: str = schema.get("$ref", "")
    return ref.endswith("/HTTPValidationError")


def _complete_operation(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if "422" in responses and _is_validation_error(responses["422"]):
        del responses["422"]
    params = _parameters(operation)
    header_names = {p["name"].lower() for p in params if p.get("in") == "header"}
    implied = [400, 503]
    if "requestBody" in operation:
        implied += [413, 415, 422]
    if any(p.get("in") == "path" for p in params):
        implied.append(404)
    if "if-match" in header_names:
        implied += [412, 428]
    if "idempotency-key" in header_names:
        implied += [409, 422]
    for code in implied:
        responses.setdefault(str(code), _response(code))
    for status, response in responses.items():
        if status.isdigit() and int(status) >= 400 and "$ref" not in response:
            response["content"] = PROBLEM_CONTENT
            if status == "503":
                response.setdefault("headers", _RETRY_AFTER)


_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def _drop_unused_validation_schemas(document: dict[str, Any]) -> None:
    """FastAPI's own 422 schemas, once no operation or other schema refers to them."""
    schemas = document["components"]["schemas"]
    rest = {key: value for key, value in document.items() if key != "components"}
    rest["schemas"] = {name: schema for name, schema in schemas.items() if name not in _FASTAPI_VALIDATION_SCHEMAS}
    text = json.dumps(rest)
    if '/HTTPValidationError"' not in text:
        schemas.pop("HTTPValidationError", None)
        if '/ValidationError"' not in text:
            schemas.pop("ValidationError", None)


def complete_problem_responses(document: dict[str, Any]) -> dict[str, Any]:
    """Complete every operation of ``document`` in place (see the module docstring); returns it."""
    for path_item in document.get("paths", {}).values():
        for method in _HTTP_METHODS:
            if method in path_item:
                _complete_operation(path_item[method])
    document.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    _drop_unused_validation_schemas(document)
    return document


def install_problem_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the document with every problem answer declared."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            app.openapi_schema = complete_problem_responses(document)
        return app.openapi_schema

    # FastAPI's documented way to extend the schema ("Extending OpenAPI") replaces the method.
    app.openapi = openapi  # type: ignore[method-assign]  # the documented override of a bound method
