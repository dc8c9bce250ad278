"""Webhook endpoints of an agreement, their deliveries and attempts, and the sender's hooks.

    create_endpoint / get_endpoint / list_endpoints / update_endpoint / delete_endpoint
    change_endpoint_status   enable | disable (a manual disable emits WebhookEndpointDisabledV1)
    rotate_endpoint_secret   a new secret; the old one signs beside it for the overlap (24 h)
    list_messages / list_attempts / redeliver / redeliver_since
    SharingDeliveryHooks     inside the sender's recording transaction: a disclosure-log row per
                             delivered record (channel webhook) and the endpoint-disabled event
    purge_webhook_log        finished messages (and their attempts) past the retention

Messages are not queued here: the trigger ``sharing_feed_to_webhooks`` (migration 0002) queues,
in the transaction that appends feed records, one message per (record, enabled endpoint of the
record's agreement whose filter takes it) — so the webhook body is exactly the feed's CloudEvent
and the ordering key is the identifier the partner sees, i.e. each customer's records reach an
endpoint in feed order. A tombstone or erasure notice first cancels what is still queued about
that customer there: after a consent withdrawal nothing more about the customer is pushed.

Every look-up takes the agreement (and, on the partner face, the partner) as well as the
endpoint id: another agreement's endpoint is not found, like a missing one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import WebhookEndpointDisabledV1
from relacja_servicekit.pagination import Page, paginate
from relacja_webhooks import (
    DeliveredMessage,
    UnsafeUrlError,
    UrlPolicy,
    check_url,
    redeliver_message,
    register_endpoint,
    rotate_secret,
)
from relacja_webhooks import redeliver_since as queue_again_since

from ..domain.states import IllegalTransition
from ..domain.webhooks import next_endpoint_status
from ..tables import webhooks
from .disclosures import record_disclosures
from .errors import NotFound
from .events import emit
from .fanout import RECTIFICATION_TYPE
from .webhook_schemas import (
    AttemptPublic,
    EndpointCreate,
    EndpointCreated,
    EndpointPublic,
    EndpointSecret,
    MessagePublic,
)

__all__ = [
    "InvalidEndpoint",
    "SharingDeliveryHooks",
    "change_endpoint_status",
    "create_endpoint",
    "delete_endpoint",
    "get_endpoint",
    "list_attempts",
    "list_endpoints",
    "list_messages",
    "purge_webhook_log",
    "redeliver",
    "redeliver_since",
    "rotate_endpoint_secret",
    "update_endpoint",
]

E, M, A = webhooks.endpoints, webhooks.messages, webhooks.attempts
_REDELIVERABLE = {"redeliver": {"succeeded": "pending", "failed": "pending", "cancelled": "pending"}}


class InvalidEndpoint(ValueError):
    """An endpoint the service will not deliver to; ``rule`` names the rule broken (SSRF rules too)."""

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(message)
        self.field, self.rule, self.message = field, rule, message


async def _check_url(url: str, policy: UrlPolicy) -> None:
    try:
        await check_url(url, policy)
    except UnsafeUrlError as err:
        raise InvalidEndpoint("url", err.rule, err.detail) from None


def _check_event_types(agreement: Row[Any], event_types: Sequence[str]) -> None:
    shared = set(agreement.allowed_fields) | {RECTIFICATION_TYPE}
    unknown = sorted(set(event_types) - shared)
    if unknown:
        raise InvalidEndpoint(
            "event_types",
            "event_type_not_shared",
            f"the agreement does not share {', '.join(unknown)} (it shares {', '.join(sorted(shared))})",
        )


async def create_endpoint(
    session: AsyncSession, policy: UrlPolicy, agreement: Row[Any], body: EndpointCreate
) -> EndpointCreated:
    _check_event_types(agreement, body.event_types)
    await _check_url(body.url, policy)
    endpoint_id, secret = await register_endpoint(
        session,
        webhooks,
        policy,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        max_concurrency=body.max_concurrency,
        rate_limit_per_second=body.rate_limit_per_second,
        extra={"agreement_id": agreement.id, "partner_id": agreement.partner_id},
    )
    row = await get_endpoint(session, agreement.id, endpoint_id)
    return EndpointCreated.model_validate({**EndpointPublic.from_row(row).model_dump(), "secret": secret})


async def get_endpoint(
    session: AsyncSession, agreement_id: uuid.UUID, endpoint_id: uuid.UUID, *, for_update: bool = False
) -> Row[Any]:
    query = select(*_public_columns()).where(E.c.id == endpoint_id, E.c.agreement_id == agreement_id)
    row = (await session.execute(query.with_for_update() if for_update else query)).one_or_none()
    if row is None:
        raise NotFound("Endpoint", endpoint_id)
    return row


async def list_endpoints(
    session: AsyncSession, agreement_id: uuid.UUID, *, limit: int, cursor: str | None
) -> Page[EndpointPublic]:
    return await paginate(
        session,
        select(*_public_columns()).where(E.c.agreement_id == agreement_id),
        keys=[E.c.created_at, E.c.id],
        limit=limit,
        cursor=cursor,
        to_item=EndpointPublic.from_row,
        sort=f"endpoints:{agreement_id}",
    )


async def update_endpoint(
    session: AsyncSession, policy: UrlPolicy, agreement: Row[Any], row: Row[Any], changes: dict[str, Any]
) -> EndpointPublic:
    values = {k: v for k, v in changes.items() if v is not None or k == "rate_limit_per_second"}
    if "event_types" in values:
        _check_event_types(agreement, values["event_types"])
        values["event_types"] = sorted(set(values["event_types"]))
    if "url" in values:
        await _check_url(values["url"], policy)
    return await _write(session, row, values)


async def delete_endpoint(session: AsyncSession, row: Row[Any]) -> None:
    await session.execute(delete(E).where(E.c.id == row.id))


async def change_endpoint_status(session: AsyncSession, row: Row[Any], action: str) -> EndpointPublic:
    status = next_endpoint_status(row.status, action)
    now = datetime.now(UTC)
    if status == "disabled":
        values: dict[str, Any] = {"status": status, "disabled_reason": "manual", "disabled_at": now}
    else:
        values = {"status": status, "disabled_reason": None, "disabled_at": None, "failing_since": None}
    public = await _write(session, row, values)
    if status == "disabled":
        await _emit_disabled(session, row.id, "manual", now)
    return public


async def rotate_endpoint_secret(session: AsyncSession, row: Row[Any], overlap: timedelta) -> EndpointSecret:
    now = datetime.now(UTC)
    secret = await rotate_secret(session, webhooks, row.id, now, overlap)
    if secret is None:
        raise NotFound("Endpoint", row.id)
    version = (await session.execute(select(E.c.version).where(E.c.id == row.id))).scalar_one()
    return EndpointSecret(endpoint_id=row.id, secret=secret, previous_secret_expires_at=now + overlap, version=version)


async def list_messages(
    session: AsyncSession, endpoint_id: uuid.UUID, *, status: str | None, limit: int, cursor: str | None
) -> Page[MessagePublic]:
    query = select(
        M.c.id,
        M.c.message_id,
        M.c.endpoint_id,
        M.c.event_type,
        M.c.meta,
        M.c.status,
        M.c.failures,
        M.c.next_attempt_at,
        M.c.last_attempt_at,
        M.c.delivered_at,
        M.c.created_at,
    ).where(M.c.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(M.c.status == status)
    return await paginate(
        session,
        query,
        keys=[M.c.id],
        limit=limit,
        cursor=cursor,
        to_item=MessagePublic.from_row,
        descending=True,
        sort=f"messages:{endpoint_id}:{status}",
    )


async def list_attempts(
    session: AsyncSession, endpoint_id: uuid.UUID, *, message_id: str | None, limit: int, cursor: str | None
) -> Page[AttemptPublic]:
    query = (
        select(
            A.c.id,
            M.c.message_id,
            A.c.attempted_at,
            A.c.outcome,
            A.c.status_code,
            A.c.latency_ms,
            A.c.error,
            A.c.response_excerpt,
        )
        .join(M, M.c.id == A.c.message_pk)
        .where(A.c.endpoint_id == endpoint_id)
    )
    if message_id is not None:
        query = query.where(M.c.message_id == message_id)
    return await paginate(
        session,
        query,
        keys=[A.c.id],
        limit=limit,
        cursor=cursor,
        to_item=AttemptPublic.from_row,
        descending=True,
        sort=f"attempts:{endpoint_id}:{message_id}",
    )


async def redeliver(session: AsyncSession, endpoint_id: uuid.UUID, message_id: str) -> MessagePublic:
    """Queue one finished message again; one still queued is 409 (illegal-transition)."""
    row = (
        await session.execute(
            select(M.c.id, M.c.status).where(M.c.endpoint_id == endpoint_id, M.c.message_id == message_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("Message", message_id)
    if not await redeliver_message(session, webhooks, row.id):
        raise IllegalTransition(row.status, "redeliver", _REDELIVERABLE)
    (page_row,) = (
        await session.execute(
            select(
                M.c.message_id,
                M.c.endpoint_id,
                M.c.event_type,
                M.c.meta,
                M.c.status,
                M.c.failures,
                M.c.next_attempt_at,
                M.c.last_attempt_at,
                M.c.delivered_at,
                M.c.created_at,
            ).where(M.c.id == row.id)
        )
    ).all()
    return MessagePublic.from_row(page_row)


async def redeliver_since(session: AsyncSession, endpoint_id: uuid.UUID, since: datetime) -> int:
    return await queue_again_since(session, webhooks, endpoint_id, since)


async def purge_webhook_log(session: AsyncSession, retention: timedelta) -> int:
    result = await session.execute(
        delete(M).where(M.c.status.in_(("succeeded", "failed", "cancelled")), M.c.created_at < func.now() - retention)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]  # a DELETE's CursorResult has rowcount


class SharingDeliveryHooks:
    """The sharing service's part of recording a delivery (relacja_webhooks.DeliveryHooks)."""

    async def delivered(self, session: AsyncSession, messages: Sequence[DeliveredMessage]) -> None:
        positions = sorted({int(m.meta["feed_position"]) for m in messages if m.meta and "feed_position" in m.meta})
        await record_disclosures(session, positions, "webhook")

    async def endpoint_disabled(self, session: AsyncSession, endpoint_id: uuid.UUID, reason: str, at: datetime) -> None:
        await _emit_disabled(session, endpoint_id, reason, at)


async def _emit_disabled(session: AsyncSession, endpoint_id: uuid.UUID, reason: str, at: datetime) -> None:
    row = (
        await session.execute(select(E.c.agreement_id, E.c.partner_id, E.c.failing_since).where(E.c.id == endpoint_id))
    ).one()
    await emit(
        session,
        WebhookEndpointDisabledV1(
            endpoint_id=endpoint_id,
            agreement_id=row.agreement_id,
            partner_id=row.partner_id,
            reason=reason,
            failing_since=row.failing_since if reason == "failing" else None,
            occurred_at=at,
        ),
    )


def _public_columns() -> list[Any]:
    return [c for c in E.c if c.name not in ("secret", "previous_secret", "rate_tokens", "rate_refilled_at")]


async def _write(session: AsyncSession, row: Row[Any], values: dict[str, Any]) -> EndpointPublic:
    new = (
        await session.execute(
            update(E)
            .where(E.c.id == row.id)
            .values(**values, version=E.c.version + 1, updated_at=func.now())
            .returning(*_public_columns())
        )
    ).one()
    return EndpointPublic.from_row(new)
