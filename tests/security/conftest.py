"""Fixtures of the security tests (issue #20 part 4): the running stack's gateway, tokens of
every shape, and the merged OpenAPI the access matrix is built from.

The whole folder is collected only when named on the command line (tests/conftest.py).
Tests under ``full/`` are long (a 1 GiB upload, schemathesis' stateful phase for many
minutes): only ``make test-faults`` runs them (``RELACJA_SECURITY_FULL=1``, or the folder
named on the command line); ``make test-faults-ci`` runs the rest.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from relacja_devstack import Stack
from relacja_gateway.tokens import mint_token

_FULL = Path(__file__).resolve().with_name("full")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path != _FULL or os.environ.get("RELACJA_SECURITY_FULL") == "1":
        return None
    asked = [Path(str(arg).split("::")[0]).resolve() for arg in config.args]
    return not any(path == _FULL or _FULL in path.parents for path in asked)


def staff_token(stack: Stack, scopes: Sequence[str], **claims: Any) -> str:
    return mint_token(stack.config.jwt_secret, claims.pop("subject", "security-tests"), list(scopes), **claims)


def partner_token(stack: Stack, partner_id: uuid.UUID | None = None) -> str:
    """A partner's OAuth2 client-credentials token (a ``partner_id`` claim, no scopes)."""
    return mint_token(stack.config.jwt_secret, "partner-client", [], partner_id=partner_id or uuid.uuid4())


@pytest.fixture
async def anonymous(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
async def merged_openapi(stack: Stack) -> dict[str, Any]:
    """The gateway's merged document of the staff API (every service's operations)."""
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=60) as client:
        # Under load a service's document may not have been fetched yet (x-missing-services):
        # ask again until every service is in, so the matrix covers the whole suite.
        for _ in range(60):
            response = await client.get("/openapi.json", params={"refresh": "true"})
            response.raise_for_status()
            document: dict[str, Any] = response.json()
            if not document["info"].get("x-missing-services"):
                return document
            await asyncio.sleep(5)
        raise AssertionError(f"services missing from the merged OpenAPI: {document['info']['x-missing-services']}")


@pytest.fixture(scope="session")
async def partner_openapi(stack: Stack) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=60) as client:
        response = await client.get("/partner/openapi.json")
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document


def assert_problem(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    """An RFC 9457 problem with one of ``statuses``, and nothing of a stack trace in it."""
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    assert_no_trace(response)
    body: dict[str, Any] = response.json()
    return body


def assert_no_trace(response: httpx.Response) -> None:
    text = response.text
    for marker in ("Traceback", 'File "', "Exception", "asyncpg", "sqlalchemy", "pydantic_core"):
        assert marker not in text, f"the answer leaks internals ({marker!r}): {text[:500]}"
