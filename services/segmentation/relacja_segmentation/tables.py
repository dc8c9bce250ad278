"""The segmentation projection, built from events only.

customer_profiles  one row per customer: master attributes analytics needs (no names,
                   no e-mail), per-customer aggregates recomputed from the rows below,
                   and the latest scores (RFM, ABC, quadrant)
seg_orders         one row per order: the latest snapshot (by occurred_at)
seg_tickets        one row per ticket: type and when it was opened
seg_consents       one row per consent record: granted or withdrawn, latest wins
customer_aliases   merged-away customer id → surviving id, so late events follow the merge
scoring_state      the last full recomputation: reference date, cut-offs and the
                   boundaries that score a single customer between recomputations
segments           rule-based segments (the JSON rule as saved)
segment_members    materialised membership
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

__all__ = [
    "metadata",
    "customer_profiles",
    "seg_orders",
    "seg_tickets",
    "seg_consents",
    "customer_aliases",
    "scoring_state",
    "segments",
    "segment_members",
]

metadata = MetaData()

MONEY = Numeric(18, 4)

customer_profiles = Table(
    "customer_profiles",
    metadata,
    Column("customer_id", UUID(as_uuid=True), primary_key=True),
    # From customer events (null until the registration arrives: topics are not ordered).
    Column("kind", Text, nullable=True),
    Column("lifecycle_stage", Text, nullable=True),
    Column("registered_at", DateTime(timezone=True), nullable=True),
    Column("master_version", Integer, nullable=False, server_default="0"),
    Column("tags", ARRAY(Text), nullable=False, server_default="{}"),
    Column("consents", ARRAY(Text), nullable=False, server_default="{}"),
    Column("erased", Boolean, nullable=False, server_default="false"),
    # Aggregates over seg_orders (purchases only, reporting currency only).
    Column("orders_count", Integer, nullable=False, server_default="0"),
    Column("purchases", Integer, nullable=False, server_default="0"),
    Column("gross_revenue", MONEY, nullable=False, server_default="0"),
    Column("net_revenue", MONEY, nullable=False, server_default="0"),
    Column("margin", MONEY, nullable=False, server_default="0"),
    Column("avg_order_value", MONEY, nullable=True),
    Column("first_purchase_at", DateTime(timezone=True), nullable=True),
    Column("last_purchase_at", DateTime(timezone=True), nullable=True),
    # From ticket events.
    Column("complaints", Integer, nullable=False, server_default="0"),
    Column("tickets", Integer, nullable=False, server_default="0"),
    Column("satisfaction_kind", Text, nullable=True),
    Column("satisfaction_score", SmallInteger, nullable=True),
    Column("satisfaction_at", DateTime(timezone=True), nullable=True),
    # Scores.
    Column("r_score", SmallInteger, nullable=True),
    Column("f_score", SmallInteger, nullable=True),
    Column("m_score", SmallInteger, nullable=True),
    Column("rfm_segment", Text, nullable=True),
    Column("abc_class", Text, nullable=True),
    Column("quadrant", Text, nullable=True),
    Column("scored_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

seg_orders = Table(
    "seg_orders",
    metadata,
    Column("order_id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("status", Text, nullable=False),
    Column("placed_at", DateTime(timezone=True), nullable=False),
    Column("currency", Text, nullable=False),
    Column("gross_amount", MONEY, nullable=False),
    Column("net_amount", MONEY, nullable=False),
    Column("margin", MONEY, nullable=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Index("ix_seg_orders_customer", "customer_id"),
)

seg_tickets = Table(
    "seg_tickets",
    metadata,
    Column("ticket_id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("type", Text, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Index("ix_seg_tickets_customer", "customer_id"),
)

seg_consents = Table(
    "seg_consents",
    metadata,
    Column("consent_id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Index("ix_seg_consents_customer", "customer_id"),
)

customer_aliases = Table(
    "customer_aliases",
    metadata,
    Column("merged_customer_id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("merged_at", DateTime(timezone=True), nullable=False),
    Index("ix_customer_aliases_customer", "customer_id"),
)

scoring_state = Table(
    "scoring_state",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("computed_at", DateTime(timezone=True), nullable=False),
    Column("reference_date", Date, nullable=False),
    Column("customers_scored", Integer, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("parameters", JSONB, nullable=False),
    Column("boundaries", JSONB, nullable=False),
)

segments = Table(
    "segments",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("description", Text, nullable=True),
    Column("rule", JSONB, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

segment_members = Table(
    "segment_members",
    metadata,
    Column("segment_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("segment_id", "customer_id"),
    Index("ix_segment_members_customer", "customer_id"),
)
