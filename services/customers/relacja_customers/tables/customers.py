"""The customer master table."""

from __future__ import annotations

from sqlalchemy import ARRAY, Column, DateTime, Index, Integer, Table, Text, func, text
from sqlalchemy.dialects.postgresql import UUID

from ._metadata import metadata

__all__ = ["customers"]

customers = Table(
    "customers",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("kind", Text, nullable=False),
    Column("display_name", Text, nullable=False),
    Column("email", Text, nullable=True, comment="As the customer wrote it"),
    Column("email_normalized", Text, nullable=True, comment="Lower-case, trimmed; unique: the duplicate check"),
    Column("lifecycle_stage", Text, nullable=False),
    Column("external_id", Text, nullable=True, comment="The id of this customer in the company's other systems"),
    Column("tags", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("version", Integer, nullable=False, server_default=text("1"), comment="Bumped on every change; the ETag"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ux_customers_email_normalized", "email_normalized", unique=True, postgresql_where=text("email_normalized IS NOT NULL")),
    Index("ux_customers_external_id", "external_id", unique=True, postgresql_where=text("external_id IS NOT NULL")),
    Index("ix_customers_created_at_id", "created_at", "id"),
)
