"""RFC 9457 problem details for every error a client can meet.

https://www.rfc-editor.org/rfc/rfc9457

Every error response is ``application/problem+json`` with ``type``, ``title``, ``status``,
``detail`` and ``instance`` (the request path), plus ``errors`` — a list of
``{"field", "message"}`` — for validation failures, and ``request_id`` to quote to support.

    raise Problem(409, "Duplicate customer", "A customer with this e-mail exists",
                  type_="duplicate-customer", extra={"existing_id": str(existing.id)})

Mapping of what can go wrong:

    malformed JSON body                      400 malformed-json
    unknown query parameter, bad cursor      400 invalid-parameter / invalid-cursor
    wrong types, missing or unknown fields   422 validation-error (with errors)
    body too large / wrong content type      413 body-too-large / 415 unsupported-media-type
    no such route / object                   404 not-found
    database or broker unreachable           503 dependency-unavailable + Retry-After
    anything else                            500 internal-error (logged with its stack; never sent)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from relacja_messaging.errors import is_transient

from .context import current_request_id

__all__ = [
    "Problem",
    "problem_response",
    "install_problem_handlers",
    "unexpected_error_problem",
    "PROBLEM_JSON",
    "problem_type",
]

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
_TYPE_BASE = "urn:relacja:problem:"

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Validation failed",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


def problem_type(slug: str) -> str:
    return slug if ":" in slug else f"{_TYPE_BASE}{slug}"


class Problem(Exception):
    """Raise anywhere in a request to answer with problem details."""

    def __init__(
        self,
        status: int,
        title: str | None = None,
        detail: str | None = None,
        *,
        type_: str | None = None,
        errors: Iterable[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title or _TITLES.get(status, "Error")
        self.detail = detail
        self.type = problem_type(type_) if type_ else "about:blank"
        self.errors = list(errors) if errors is not None else None
        self.headers = headers or {}
        self.extra = extra or {}


def problem_response(problem: Problem, instance: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": problem.type, "title": problem.title, "status": problem.status}
    if problem.detail:
        body["detail"] = problem.detail
    if instance:
        body["instance"] = instance
    if problem.errors is not None:
        body["errors"] = problem.errors
    body.update(problem.extra)
    request_id = current_request_id.get()
    if request_id:
        body["request_id"] = request_id
    return JSONResponse(body, status_code=problem.status, headers=problem.headers, media_type=PROBLEM_JSON)


def _field_name(location: Iterable[Any]) -> str:
    return ".".join(str(part) for part in location)


def _is_missing_if_match(error: Any) -> bool:
    location = tuple(str(part).lower() for part in error.get("loc", ()))
    return error.get("type") == "missing" and location == ("header", "if-match")


def validation_problem(exc: RequestValidationError) -> Problem:
    raw = exc.errors()
    if any(error.get("type") == "json_invalid" for error in raw):
        ctx = next(e for e in raw if e.get("type") == "json_invalid").get("ctx", {})
        return Problem(
            400,
            "Malformed JSON",
            f"The request body is not valid JSON: {ctx.get('error', 'parse error')}",
            type_="malformed-json",
        )
    errors = [{"field": _field_name(error.get("loc", ())), "message": error.get("msg", "invalid")} for error in raw]
    if any(_is_missing_if_match(error) for error in raw):
        # RFC 6585 §3: a conditional request is required here (etags.RequiredIfMatchHeader).
        return Problem(
            428,
            "Precondition required",
            "Send If-Match with the ETag of the version you change (GET it first).",
            type_="precondition-required",
            errors=[{"field": "header.If-Match", "message": "required"}],
        )
    in_query = [e for e in raw if e.get("loc", ("",))[0] in ("query", "path", "header")]
    if in_query and len(in_query) == len(raw):
        return Problem(
            400, "Invalid parameter", "One or more parameters are invalid.", type_="invalid-parameter", errors=errors
        )
    return Problem(
        422, "Validation failed", "The request body does not match the schema.", type_="validation-error", errors=errors
    )


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(validation_problem(exc), request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = {404: "not-found", 405: "method-not-allowed", 413: "body-too-large"}.get(
            exc.status_code, f"http-{exc.status_code}"
        )
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != _TITLES.get(exc.status_code) else None
        if exc.status_code == 404 and detail in (None, "Not Found"):
            detail = f"No resource at {request.url.path}"
        return problem_response(
            Problem(exc.status_code, detail=detail, type_=slug, headers=dict(exc.headers or {})), request.url.path
        )


def unexpected_error_problem(exc: BaseException, *, retry_after_seconds: int) -> Problem:
    """503 for an unreachable dependency, 500 for anything else; details go to the log only."""
    if is_transient(exc):
        log.warning("dependency unavailable: %r", exc)
        return Problem(
            503,
            "Service unavailable",
            "A dependency of this service (database or broker) is unreachable; nothing was changed. Retry later.",
            type_="dependency-unavailable",
            headers={"Retry-After": str(retry_after_seconds)},
        )
    log.error("unhandled error", exc_info=exc)
    return Problem(
        500, "Internal error", "The server failed to handle the request; it has been logged.", type_="internal-error"
    )
