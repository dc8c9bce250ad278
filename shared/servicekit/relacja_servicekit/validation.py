"""Request checks FastAPI does not make on its own.

- ``require_json``: a body that is not JSON (by ``Content-Type``) is 415, before FastAPI
  tries to validate bytes against a model and reports a confusing 422.
- ``reject_unknown_query_parameters``: a query parameter the route does not declare is
  400 — a typo in ``?stauts=open`` must not silently return everything (docs/conventions.md).
- ``reject_unstorable_text``: a string PostgreSQL cannot store — one holding NUL
  (U+0000) or a lone UTF-16 surrogate (``"\\ud800"`` in JSON decodes to a str that UTF-8
  cannot encode) — is 422 naming the field (400 for a query or path parameter), on every
  route, before any model or database sees it. Checked once here for every service
  instead of in each model: the JSON text is searched for the two escapes first
  (``\\u0000``, ``\\ud800``–``\\udfff``), so a common body costs one regex scan; only
  a body that has one is walked to name the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from .problems import Problem

__all__ = [
    "require_json",
    "RequireJson",
    "reject_unknown_query_parameters",
    "reject_unstorable_text",
    "unstorable_text_problem",
    "find_unstorable_text",
]

_BODY_METHODS = {"POST", "PUT", "PATCH"}


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


async def require_json(request: Request) -> None:
    if request.method not in _BODY_METHODS:
        return
    content_type = request.headers.get("content-type")
    has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    if (content_type or has_body) and not _is_json(content_type or ""):
        raise Problem(
            415,
            detail=f"Content-Type {content_type or '(none)'} is not supported here; send application/json.",
            type_="unsupported-media-type",
            headers={"Accept": "application/json"},
        )


RequireJson = Depends(require_json)

_declared_cache: dict[int, frozenset[str]] = {}


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _declared_query_names(route: APIRoute) -> frozenset[str]:
    names = _declared_cache.get(id(route))
    if names is None:
        names = frozenset(_query_names(route.dependant))
        _declared_cache[id(route)] = names
    return names


async def reject_unknown_query_parameters(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    unknown = sorted(set(request.query_params) - _declared_query_names(route))
    if unknown:
        raise Problem(
            400,
            "Invalid parameter",
            f"Unknown query parameter(s): {', '.join(unknown)}.",
            type_="invalid-parameter",
            errors=[{"field": f"query.{name}", "message": "unknown parameter"} for name in unknown],
        )


# A JSON escape of NUL or of any UTF-16 surrogate (paired ones are fine; the walk decides).
_SUSPICIOUS_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def _unstorable_reason(text: str) -> str | None:
    if "\x00" in text:
        return "must not contain the NUL character (U+0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must not contain a lone UTF-16 surrogate (not valid Unicode text)"
    return None


def find_unstorable_text(value: Any, location: tuple[str | int, ...] = ()) -> Iterator[tuple[str, str]]:
    """``(field, message)`` for every string (or object key) in ``value`` PostgreSQL cannot store."""
    if isinstance(value, str):
        reason = _unstorable_reason(value)
        if reason:
            yield ".".join(str(part) for part in location), reason
    elif isinstance(value, dict):
        for key, item in value.items():
            key_reason = _unstorable_reason(str(key))
            if key_reason:
                yield ".".join(str(part) for part in (*location, repr(key)[1:-1])), f"key {key_reason}"
            yield from find_unstorable_text(item, (*location, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from find_unstorable_text(item, (*location, index))


def unstorable_text_problem(errors: list[tuple[str, str]], *, status: int = 422) -> Problem:
    return Problem(
        status,
        "Validation failed" if status == 422 else "Invalid parameter",
        "Text must be valid Unicode without NUL characters.",
        type_="validation-error" if status == 422 else "invalid-parameter",
        errors=[{"field": field, "message": message} for field, message in errors],
    )


async def reject_unstorable_text(request: Request) -> None:
    parameters = [
        *((f"query.{name}", value) for name, value in request.query_params.multi_items()),
        *((f"path.{name}", str(value)) for name, value in request.path_params.items()),
    ]
    bad_parameters = [(field, reason) for field, value in parameters if (reason := _unstorable_reason(value))]
    if bad_parameters:
        raise unstorable_text_problem(bad_parameters, status=400)
    route = request.scope.get("route")
    # Only a route whose body FastAPI has already read as JSON: a streamed upload (an
    # import) must not be consumed here, and its own parser checks each row.
    if (
        not isinstance(route, APIRoute)
        or route.body_field is None
        or not _is_json(request.headers.get("content-type", ""))
    ):
        return
    body = await request.body()
    if not _SUSPICIOUS_ESCAPE.search(body):
        return
    errors = list(find_unstorable_text(await request.json(), ("body",)))
    if errors:
        raise unstorable_text_problem(errors)
