"""The segmentation projection: one row per customer, built from events only.

It holds what analysis needs and no more personal data than that: no names or
e-mail addresses (they stay in the customer master).
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, MetaData, Table, Text, func
from sqlalchemy.dialects.postgresql import UUID

__all__ = ["metadata", "customer_profiles"]

metadata = MetaData()

customer_profiles = Table(
    "customer_profiles",
    metadata,
    Column("customer_id", UUID(as_uuid=True), primary_key=True),
    Column("kind", Text, nullable=False),
    Column("lifecycle_stage", Text, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
