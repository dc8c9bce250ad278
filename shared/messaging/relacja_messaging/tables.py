"""The messaging tables, identical in every service database.

``outbox_events``  events written in the same transaction as the state change they
                   describe; the relay publishes them and stamps ``published_at``.
                   Published rows are retained (``RelaySettings.retention``) so that
                   a broker that lost its log can be refilled.
``inbox_events``   one row per (consumer, event id) applied — written in the same
                   transaction as the handler's effect, so a redelivered event is a no-op.
``relay_watermarks`` the highest offset the relay saw acknowledged per topic partition;
                   an acknowledgement at or below it means the broker lost its log.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

__all__ = ["metadata", "outbox_events", "inbox_events", "relay_watermarks", "NOTIFY_CHANNEL"]

NOTIFY_CHANNEL = "relacja_outbox"

metadata = MetaData()

outbox_events = Table(
    "outbox_events",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("topic", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("headers", JSONB, nullable=False, comment="Kafka headers as [[name, value], ...] (CloudEvents ce_*)"),
    Column("payload", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()),
    Column("published_at", DateTime(timezone=True), nullable=True),
    # The relay's hot query: the oldest unpublished rows. A partial index stays tiny.
    Index("ix_outbox_events_unpublished", "id", postgresql_where=text("published_at IS NULL")),
    Index("ix_outbox_events_published_at", "published_at"),
)

inbox_events = Table(
    "inbox_events",
    metadata,
    Column("consumer", Text, nullable=False),
    Column("event_id", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("outcome", Text, nullable=False, server_default="applied", comment="applied | dead_lettered"),
    Column("event_time", DateTime(timezone=True), nullable=True),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()),
    PrimaryKeyConstraint("consumer", "event_id"),
    Index("ix_inbox_events_processed_at", "processed_at"),  # the retention purge (retention.py)
)

relay_watermarks = Table(
    "relay_watermarks",
    metadata,
    Column("topic", Text, nullable=False),
    Column("partition", Integer, nullable=False),
    Column("high_offset", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()),
    PrimaryKeyConstraint("topic", "partition"),
)
