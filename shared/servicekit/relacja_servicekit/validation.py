"""Request checks FastAPI does not make on its own.

- ``require_json``: a body that is not JSON (by ``Content-Type``) is 415, before FastAPI
  tries to validate bytes against a model and reports a confusing 422.
- ``reject_unknown_query_parameters``: a query parameter the route does not declare is
  400 — a typo in ``?stauts=open`` must not silently return everything (CONVENTIONS.md).
"""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from .problems import Problem

__all__ = ["require_json", "RequireJson", "reject_unknown_query_parameters"]

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
