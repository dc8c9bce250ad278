"""Bulk import jobs: one row per ``POST /api/v1/customers/imports``, updated per batch."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, Table, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID

from ._metadata import metadata

__all__ = ["customer_imports"]

customer_imports = Table(
    "customer_imports",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("status", Text, nullable=False, comment="running | completed | failed"),
    Column("format", Text, nullable=False, comment="csv | ndjson"),
    Column("rows_total", Integer, nullable=False, server_default=text("0")),
    Column("rows_created", Integer, nullable=False, server_default=text("0")),
    Column("rows_updated", Integer, nullable=False, server_default=text("0")),
    Column("rows_unchanged", Integer, nullable=False, server_default=text("0")),
    Column("rows_failed", Integer, nullable=False, server_default=text("0")),
    Column("errors", JSONB, nullable=False, server_default=text("'[]'"), comment="[{row, field, message}], capped"),
    Column("failure", Text, nullable=True, comment="Why the whole job stopped (status failed)"),
    Column("started_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Index("ix_customer_imports_started_at_id", "started_at", "id"),
)
