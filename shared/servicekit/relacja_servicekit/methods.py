"""405 Method Not Allowed, answered as a path's resource really is (RFC 9110 §15.5.6).

Two gaps of Starlette's router, both found by schemathesis' ``--checks all``
(docs/security.md):

* **``Allow`` lists every method of the path.** FastAPI makes one route per operation,
  and the router answers 405 with the ``Allow`` of the first route whose path matched:
  ``OPTIONS /api/v1/customers/{id}`` said ``Allow: GET`` although PATCH exists.
  :meth:`RouteMethods.allowed` is the union over every route whose path matches, and the
  405 handler :func:`install_method_answers` installs puts it on each 405.
* **A fixed path is its own resource.** Beside a templated path (``/customers/{customer_id}``)
  a fixed one (``/customers/settings``) let a method it lacks fall through to the
  template: ``PATCH /api/v1/customers/settings`` was taken as a change of the customer
  whose id is "settings" and answered 428 or 422. :class:`FixedPathMethodsMiddleware`
  answers 405 before routing when the path is a fixed route's and the method is none of
  that path's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from .problems import Problem, problem_response

__all__ = ["FixedPathMethodsMiddleware", "RouteMethods", "allow_header", "install_method_answers"]


class RouteMethods:
    """Which methods each path of an app has, read from its routes on first use (every
    router is included by then; FastAPI keeps included routers nested, so they are walked
    with ``iter_route_contexts``)."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self._routes = routes
        self._table: list[tuple[str, re.Pattern[str], set[str]]] | None = None
        self._fixed: dict[str, set[str]] = {}  # every request asks: one dict lookup

    def _entries(self) -> list[tuple[str, re.Pattern[str], set[str]]]:
        if self._table is None:
            table = []
            for context in iter_route_contexts(self._routes):
                path, methods = context.path, context.methods
                if path and methods:  # mounts and websockets have no methods
                    table.append((path, compile_path(path)[0], set(methods)))
                    if "{" not in path:
                        self._fixed.setdefault(path, set()).update(methods)
            self._table = table
        return self._table

    def fixed(self, path: str) -> set[str]:
        """The methods of the routes whose path is exactly ``path`` (no template)."""
        self._entries()
        return self._fixed.get(path, set())

    def allowed(self, path: str) -> set[str]:
        """Every method some route serves at ``path``; a fixed route's path, only its own."""
        return self.fixed(path) or {m for _, regex, methods in self._entries() if regex.match(path) for m in methods}


def allow_header(methods: set[str]) -> str:
    return ", ".join(sorted(methods))


def method_not_allowed(method: str, path: str, methods: set[str]) -> JSONResponse:
    allow = allow_header(methods)
    problem = Problem(
        405,
        detail=f"{method} is not a method of {path}; it has {allow}.",
        type_="method-not-allowed",
        headers={"Allow": allow},
    )
    return problem_response(problem, path)


def install_method_answers(app: FastAPI) -> None:
    """The 405 handler and the fixed-path middleware."""
    table = RouteMethods(app.routes)

    @app.exception_handler(405)
    async def _method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
        return method_not_allowed(request.method, request.url.path, table.allowed(request.url.path))

    app.add_middleware(FixedPathMethodsMiddleware, table=table)


class FixedPathMethodsMiddleware:
    """405 for a method a fixed path lacks, even when a templated route would take it."""

    def __init__(self, app: ASGIApp, table: RouteMethods) -> None:
        self.app = app
        self.table = table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            methods = self.table.fixed(scope["path"])
            if methods and scope["method"] not in methods:
                await method_not_allowed(scope["method"], scope["path"], methods)(scope, receive, send)
                return
        await self.app(scope, receive, send)
