"""Every event the service emitted about a customer, kept for the customer's timeline.

The outbox is purged after its retention window; this log is not. It holds the event
type, time and payload (the payloads carry little personal data; erasure scrubs what
they do carry).
"""

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, Table, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID

from ._metadata import metadata

__all__ = ["customer_event_log"]

customer_event_log = Table(
    "customer_event_log",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("event_type", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("payload", JSONB, nullable=False),
    Index("ix_customer_event_log_customer_time", "customer_id", "occurred_at", "id"),
)
