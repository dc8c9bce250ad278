"""Idempotent creation: the ``Idempotency-Key`` request header.

https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/

The key row is inserted in the same transaction as the effect, so a retried request
either finds the committed first response (and gets it again) or — while the first is
still running — waits on the row lock and then finds it. The request body's SHA-256
is stored with the key: the same key with another body is 422, a client bug that must
not be answered with somebody else's response. Keys are kept for the service's
``idempotency_key_retention_hours`` (24 h by default, as the draft suggests); the
process that runs the outbox relay also runs the housekeeping (``housekeeping.py``),
which deletes older keys in small batches. After that a retry with the same key is a new request.

Every create route uses the two calls below, in the transaction that does the work:

    async with session.begin():
        if stored := await claim_request(session, "customers.create", idempotency_key, body):
            return stored.to_response()
        ... do the work ...
        return await created_response(session, "customers.create", idempotency_key, public,
                                      location=f"/api/v1/customers/{id}", version=row.version)

``claim`` and ``remember`` are the lower-level pair under them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from relacja_messaging.retention import delete_older_than

from .etags import etag
from .problems import Problem

__all__ = [
    "IdempotencyKeyHeader",
    "StoredResponse",
    "claim",
    "remember",
    "claim_request",
    "created_response",
    "fingerprint",
    "idempotency_keys",
    "create_idempotency_table",
    "purge_expired_keys",
]

metadata = MetaData()

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("fingerprint", Text, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("response_body", JSONB, nullable=True),
    Column("response_headers", JSONB, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("scope", "key"),
    # The purge's query: keys older than the retention window.
    Index("ix_idempotency_keys_created_at", "created_at"),
)

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Makes the POST safe to retry: the same key and body return the first response.",
    ),
]


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any
    headers: dict[str, str]

    def to_response(self) -> JSONResponse:
        return JSONResponse(
            self.body, status_code=self.status_code, headers={**self.headers, "Idempotent-Replayed": "true"}
        )


def fingerprint(body: Any) -> str:
    """SHA-256 of the request's JSON in a canonical form (key order and spacing do not matter)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


async def claim(session: AsyncSession, *, scope: str, key: str, fingerprint: str) -> StoredResponse | None:
    """Claim ``key`` for this request, or return the response stored for it."""
    inserted = await session.execute(
        pg_insert(idempotency_keys)
        .values(scope=scope, key=key, fingerprint=fingerprint)
        .on_conflict_do_nothing(index_elements=["scope", "key"])
        .returning(idempotency_keys.c.key)
    )
    if inserted.first() is not None:
        return None
    row = (
        await session.execute(
            select(idempotency_keys).where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
        )
    ).one()
    if row.fingerprint != fingerprint:
        raise Problem(
            422,
            "Idempotency key reused",
            "This Idempotency-Key was already used with a different request body.",
            type_="idempotency-key-reused",
        )
    if row.status_code is None:  # the first request failed and rolled back its claim; cannot happen after commit
        raise Problem(
            409,
            "Request in progress",
            "A request with this Idempotency-Key is still being processed.",
            type_="idempotency-in-progress",
        )
    return StoredResponse(row.status_code, row.response_body, dict(row.response_headers or {}))


async def remember(
    session: AsyncSession, scope: str, key: str, *, status_code: int, body: Any, headers: dict[str, str] | None = None
) -> None:
    await session.execute(
        update(idempotency_keys)
        .where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
        .values(status_code=status_code, response_body=body, response_headers=headers or {})
    )


async def claim_request(
    session: AsyncSession, scope: str, key: str | None, body: BaseModel | dict[str, Any] | list[Any] | None
) -> StoredResponse | None:
    """Claim ``key`` (when the client sent one) for this request body; the stored response on a replay."""
    if key is None:
        return None
    payload = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    return await claim(session, scope=scope, key=key, fingerprint=fingerprint(payload))


async def created_response(
    session: AsyncSession,
    scope: str,
    key: str | None,
    result: BaseModel | dict[str, Any],
    *,
    status_code: int = 201,
    location: str | None = None,
    version: int | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The answer to a create (201, or 202 for accepted work), remembered under ``key`` for replays.

    ``Location`` and ``ETag`` (from ``version``) are set when given, so a replay carries
    the same headers as the first answer.
    """
    body = jsonable_encoder(result)
    all_headers = dict(headers or {})
    if location is not None:
        all_headers["Location"] = location
    if version is not None:
        all_headers["ETag"] = etag(version)
    if key is not None:
        await remember(session, scope, key, status_code=status_code, body=body, headers=all_headers)
    return JSONResponse(body, status_code=status_code, headers=all_headers)


def create_idempotency_table(bind: Connection) -> None:
    """Today's table in a scratch database (tests). Migrations spell out their own DDL."""
    idempotency_keys.create(bind)


async def purge_expired_keys(engine: AsyncEngine, retention: timedelta, *, batch: int = 5_000) -> int:
    """Delete every key older than ``retention``; returns how many were deleted."""
    return await delete_older_than(engine, "idempotency_keys", "created_at", retention, batch=batch)
