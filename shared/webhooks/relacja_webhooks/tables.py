"""The delivery queue's tables, made by a factory so each service names and extends them.

    tables = webhook_tables(metadata, prefix="webhook", endpoint_columns=[Column("agreement_id", UUID, ...)])

``<prefix>_endpoints``  where to deliver: URL, the current secret and the previous one until
                        its rotation overlap expires, event-type filter (empty = every type),
                        status (enabled | disabled) with the reason, the failing-since clock,
                        per-endpoint concurrency and rate limit (a token bucket), plus the
                        owner service's own columns (e.g. which agreement it serves).
``<prefix>_messages``   one row per (endpoint, message): the exact body signed, the ordering key
                        (a later message waits while an earlier one with the same key is pending),
                        status pending | delivering | succeeded | failed | cancelled, failures so far,
                        ``cancelled_at`` (cancelled while in flight: a failed attempt is not retried),
                        the next attempt's time, the lease of an attempt in flight, and ``meta``:
                        the owner's reference (e.g. the feed record the message came from).
``<prefix>_attempts``   the delivery log: one row per attempt with status code, latency,
                        a bounded response excerpt and the error.

A service's migration spells this DDL out as it was at that revision (docs/adding-a-service.md);
``create_webhook_tables()`` (migrations.py) builds today's version in scratch databases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

__all__ = ["WebhookTables", "webhook_tables", "MESSAGE_STATUSES", "ENDPOINT_STATUSES"]

ENDPOINT_STATUSES = ("enabled", "disabled")
MESSAGE_STATUSES = ("pending", "delivering", "succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class WebhookTables:
    endpoints: Table
    messages: Table
    attempts: Table


def webhook_tables(
    metadata: MetaData, *, prefix: str = "webhook", endpoint_columns: Sequence[Column[Any]] = ()
) -> WebhookTables:
    endpoints = Table(
        f"{prefix}_endpoints",
        metadata,
        Column("id", UUID(as_uuid=True), primary_key=True),
        *endpoint_columns,
        Column("url", Text, nullable=False),
        Column("description", Text, nullable=False, server_default=""),
        Column("event_types", ARRAY(Text), nullable=False, server_default="{}", comment="empty: every event type"),
        Column("status", Text, nullable=False, server_default="enabled", comment="enabled | disabled"),
        Column("disabled_reason", Text, nullable=True, comment="gone (410) | failing | manual"),
        Column("disabled_at", DateTime(timezone=True), nullable=True),
        Column("secret", Text, nullable=False, comment="whsec_...; signs every attempt"),
        Column("previous_secret", Text, nullable=True, comment="signs beside secret until previous_secret_expires_at"),
        Column("previous_secret_expires_at", DateTime(timezone=True), nullable=True),
        Column("max_concurrency", Integer, nullable=False, server_default="10"),
        Column("rate_limit_per_second", Integer, nullable=True, comment="null: unlimited"),
        Column("rate_tokens", Double, nullable=False, server_default="0"),
        Column("rate_refilled_at", DateTime(timezone=True), nullable=True),
        Column("failing_since", DateTime(timezone=True), nullable=True, comment="first failure since the last success"),
        Column("version", Integer, nullable=False, server_default="1"),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    messages = Table(
        f"{prefix}_messages",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("message_id", Text, nullable=False, unique=True, comment="the webhook-id header"),
        Column("endpoint_id", UUID(as_uuid=True), ForeignKey(endpoints.c.id, ondelete="CASCADE"), nullable=False),
        Column("event_type", Text, nullable=False),
        Column("ordering_key", Text, nullable=False),
        Column("body", Text, nullable=False, comment="the exact JSON body signed and sent"),
        Column("meta", JSONB, nullable=True, comment="the owner service's reference"),
        Column("status", Text, nullable=False, server_default="pending"),
        Column("failures", Integer, nullable=False, server_default="0", comment="failed attempts since (re)queued"),
        Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("lease_until", DateTime(timezone=True), nullable=True, comment="an attempt in flight until then"),
        Column("last_attempt_at", DateTime(timezone=True), nullable=True),
        Column("delivered_at", DateTime(timezone=True), nullable=True),
        Column(
            "cancelled_at",
            DateTime(timezone=True),
            nullable=True,
            comment="cancelled while an attempt was in flight: not retried if that attempt fails",
        ),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        # The claim: due messages per endpoint, oldest first.
        Index(
            f"ix_{prefix}_messages_due",
            "endpoint_id",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        # The ordering rule: is an earlier message with this key still open?
        Index(
            f"ix_{prefix}_messages_open_key",
            "endpoint_id",
            "ordering_key",
            "id",
            postgresql_where=text("status IN ('pending', 'delivering')"),
        ),
        # Attempts in flight: the per-endpoint concurrency count and expired leases.
        Index(
            f"ix_{prefix}_messages_in_flight",
            "endpoint_id",
            "lease_until",
            postgresql_where=text("status = 'delivering'"),
        ),
        Index(f"ix_{prefix}_messages_endpoint", "endpoint_id", "id"),
        Index(f"ix_{prefix}_messages_created_at", "endpoint_id", "created_at"),
    )
    attempts = Table(
        f"{prefix}_attempts",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("message_pk", BigInteger, ForeignKey(messages.c.id, ondelete="CASCADE"), nullable=False),
        Column("endpoint_id", UUID(as_uuid=True), nullable=False),
        Column("attempted_at", DateTime(timezone=True), nullable=False),
        Column("outcome", Text, nullable=False, comment="succeeded | failed | gone"),
        Column("status_code", Integer, nullable=True, comment="null: no response"),
        Column("latency_ms", Integer, nullable=False),
        Column("error", Text, nullable=True),
        Column("response_excerpt", Text, nullable=True),
        Index(f"ix_{prefix}_attempts_message", "message_pk", "id"),
        Index(f"ix_{prefix}_attempts_endpoint", "endpoint_id", "id"),
    )
    return WebhookTables(endpoints=endpoints, messages=messages, attempts=attempts)
