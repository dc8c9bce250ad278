"""Writing to the delivery queue, in the caller's session and transaction.

    register_endpoint()   check the URL (SSRF guard, with DNS), make a secret, insert; the secret is
                          returned once, for the caller to show once
    rotate_secret()       a new current secret; the old one keeps signing beside it for ``overlap``
    message_id()          a fresh ``webhook-id`` (``msg_`` + a UUID)
    enqueue()             messages for known endpoints (a Python batch)
    enqueue_select_sql()  the INSERT for a set built in SQL (e.g. the feed records of one statement)
    redeliver_message()   queue one message again, now
    redeliver_since()     queue again every message of an endpoint created since a time
    cancel_open()         cancel what is still pending for an ordering key (e.g. consent withdrawn)

Nothing here sends: the worker (worker.py) claims due rows and sends them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from .guard import UrlPolicy, check_url
from .signing import new_secret
from .tables import WebhookTables

__all__ = [
    "ROTATION_OVERLAP",
    "NewMessage",
    "message_id",
    "register_endpoint",
    "rotate_secret",
    "enqueue",
    "enqueue_select_sql",
    "redeliver_message",
    "redeliver_since",
    "cancel_open",
]

ROTATION_OVERLAP = timedelta(hours=24)


@dataclass(frozen=True)
class NewMessage:
    endpoint_id: uuid.UUID
    event_type: str
    ordering_key: str
    body: str
    meta: Mapping[str, Any] | None = None
    message_id: str | None = None


def message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


async def register_endpoint(
    session: AsyncSession,
    tables: WebhookTables,
    policy: UrlPolicy,
    *,
    url: str,
    event_types: Sequence[str] = (),
    description: str = "",
    max_concurrency: int = 10,
    rate_limit_per_second: int | None = None,
    extra: Mapping[str, Any] | None = None,
    endpoint_id: uuid.UUID | None = None,
) -> tuple[uuid.UUID, str]:
    """Insert an endpoint after the SSRF check; returns its id and secret (UnsafeUrlError if refused)."""
    await check_url(url, policy)
    new_id = endpoint_id or uuid.uuid4()
    secret = new_secret()
    await session.execute(
        insert(tables.endpoints).values(
            id=new_id,
            url=url,
            event_types=sorted(set(event_types)),
            description=description,
            secret=secret,
            max_concurrency=max_concurrency,
            rate_limit_per_second=rate_limit_per_second,
            **(extra or {}),
        )
    )
    return new_id, secret


async def rotate_secret(
    session: AsyncSession,
    tables: WebhookTables,
    endpoint_id: uuid.UUID,
    now: datetime,
    overlap: timedelta = ROTATION_OVERLAP,
) -> str | None:
    """The new secret, or None if there is no such endpoint. The replaced secret signs beside
    the new one until ``now + overlap``; a rotation during an overlap drops the oldest."""
    secret = new_secret()
    e = tables.endpoints
    row = await session.execute(
        update(e)
        .where(e.c.id == endpoint_id)
        .values(
            previous_secret=e.c.secret,
            previous_secret_expires_at=now + overlap,
            secret=secret,
            version=e.c.version + 1,
            updated_at=func.now(),
        )
        .returning(e.c.id)
    )
    return secret if row.first() is not None else None


async def enqueue(session: AsyncSession, tables: WebhookTables, messages: Sequence[NewMessage]) -> list[str]:
    """Queue ``messages`` (due now); returns their webhook-ids in order."""
    if not messages:
        return []
    rows: list[dict[str, Any]] = [
        {
            "message_id": m.message_id or message_id(),
            "endpoint_id": m.endpoint_id,
            "event_type": m.event_type,
            "ordering_key": m.ordering_key,
            "body": m.body,
            "meta": dict(m.meta) if m.meta is not None else None,
        }
        for m in messages
    ]
    await session.execute(insert(tables.messages), rows)
    return [r["message_id"] for r in rows]


def enqueue_select_sql(tables: WebhookTables, rows_sql: str) -> str:
    """``INSERT INTO <messages> ... <rows_sql>``: ``rows_sql`` is a SELECT producing the columns
    ``endpoint_id, event_type, ordering_key, body, meta`` (in that order); each row gets a fresh
    webhook-id. The caller's SELECT joins its rows with the endpoints it wants
    (enabled ones whose ``event_types`` is empty or holds the row's type)."""
    m = tables.messages.name
    return (
        f"INSERT INTO {m} (message_id, endpoint_id, event_type, ordering_key, body, meta) "
        f"SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), q.* FROM ({rows_sql}) AS q"
    )


async def redeliver_message(session: AsyncSession, tables: WebhookTables, message_pk: int) -> bool:
    """Queue one finished message again, due now. False if it is still queued (or unknown)."""
    m = tables.messages
    result = await session.execute(
        update(m)
        .where(m.c.id == message_pk, m.c.status.in_(("succeeded", "failed", "cancelled")))
        .values(status="pending", failures=0, next_attempt_at=func.now(), lease_until=None, cancelled_at=None)
        .returning(m.c.id)
    )
    return result.first() is not None


async def redeliver_since(session: AsyncSession, tables: WebhookTables, endpoint_id: uuid.UUID, since: datetime) -> int:
    """Queue again every finished message of ``endpoint_id`` created at or after ``since``; the count."""
    m = tables.messages
    result = await session.execute(
        update(m)
        .where(
            m.c.endpoint_id == endpoint_id,
            m.c.created_at >= since,
            m.c.status.in_(("succeeded", "failed", "cancelled")),
        )
        .values(status="pending", failures=0, next_attempt_at=func.now(), lease_until=None, cancelled_at=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def cancel_open(
    session: AsyncSession, tables: WebhookTables, endpoint_ids: Sequence[uuid.UUID], ordering_key: str
) -> int:
    """Cancel the open messages of ``ordering_key`` to these endpoints; the count. An attempt
    already in flight finishes — later messages of the key still wait for it — but is not
    retried if it fails."""
    m = tables.messages
    result = await session.execute(
        update(m)
        .where(
            m.c.endpoint_id.in_(endpoint_ids),
            m.c.ordering_key == ordering_key,
            m.c.status.in_(("pending", "delivering")),
        )
        .values(
            status=case((m.c.status == "pending", "cancelled"), else_=m.c.status),
            cancelled_at=func.now(),
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
