"""The full projection (orders, tickets, consents, aliases), scores and rule-based segments.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

The DDL is spelled out: a migration creates the tables as they were at this revision.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(18, 4)


def upgrade() -> None:
    # Order and ticket events may arrive before the registration: master fields are optional.
    for column in ("kind", "lifecycle_stage", "registered_at"):
        op.alter_column("customer_profiles", column, nullable=True)
    for column in (
        sa.Column("master_version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("tags", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("consents", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("erased", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("orders_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("purchases", sa.Integer, nullable=False, server_default="0"),
        sa.Column("gross_revenue", MONEY, nullable=False, server_default="0"),
        sa.Column("net_revenue", MONEY, nullable=False, server_default="0"),
        sa.Column("margin", MONEY, nullable=False, server_default="0"),
        sa.Column("avg_order_value", MONEY, nullable=True),
        sa.Column("first_purchase_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_purchase_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("complaints", sa.Integer, nullable=False, server_default="0"),
        sa.Column("tickets", sa.Integer, nullable=False, server_default="0"),
        sa.Column("satisfaction_kind", sa.Text, nullable=True),
        sa.Column("satisfaction_score", sa.SmallInteger, nullable=True),
        sa.Column("satisfaction_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("r_score", sa.SmallInteger, nullable=True),
        sa.Column("f_score", sa.SmallInteger, nullable=True),
        sa.Column("m_score", sa.SmallInteger, nullable=True),
        sa.Column("rfm_segment", sa.Text, nullable=True),
        sa.Column("abc_class", sa.Text, nullable=True),
        sa.Column("quadrant", sa.Text, nullable=True),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=True),
    ):
        op.add_column("customer_profiles", column)

    op.create_table(
        "seg_orders",
        sa.Column("order_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("gross_amount", MONEY, nullable=False),
        sa.Column("net_amount", MONEY, nullable=False),
        sa.Column("margin", MONEY, nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_seg_orders_customer", "seg_orders", ["customer_id"])
    op.create_table(
        "seg_tickets",
        sa.Column("ticket_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_seg_tickets_customer", "seg_tickets", ["customer_id"])
    op.create_table(
        "seg_consents",
        sa.Column("consent_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("granted", sa.Boolean, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_seg_consents_customer", "seg_consents", ["customer_id"])
    op.create_table(
        "customer_aliases",
        sa.Column("merged_customer_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_customer_aliases_customer", "customer_aliases", ["customer_id"])
    op.create_table(
        "scoring_state",
        sa.Column("id", sa.SmallInteger, primary_key=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reference_date", sa.Date, nullable=False),
        sa.Column("customers_scored", sa.Integer, nullable=False),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("parameters", JSONB, nullable=False),
        sa.Column("boundaries", JSONB, nullable=False),
    )
    op.create_table(
        "segments",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("rule", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "segment_members",
        sa.Column("segment_id", UUID(as_uuid=True), nullable=False),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("segment_id", "customer_id"),
    )
    op.create_index("ix_segment_members_customer", "segment_members", ["customer_id"])
    # The Idempotency-Key table as relacja_servicekit.idempotency defined it at this
    # revision (its created_at index came later: the retention-index revision).
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("response_body", JSONB, nullable=True),
        sa.Column("response_headers", JSONB, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("scope", "key"),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    for table in (
        "segment_members",
        "segments",
        "scoring_state",
        "customer_aliases",
        "seg_consents",
        "seg_tickets",
        "seg_orders",
    ):
        op.drop_table(table)
    for column in (
        "master_version",
        "tags",
        "consents",
        "erased",
        "orders_count",
        "purchases",
        "gross_revenue",
        "net_revenue",
        "margin",
        "avg_order_value",
        "first_purchase_at",
        "last_purchase_at",
        "complaints",
        "tickets",
        "satisfaction_kind",
        "satisfaction_score",
        "satisfaction_at",
        "r_score",
        "f_score",
        "m_score",
        "rfm_segment",
        "abc_class",
        "quadrant",
        "scored_at",
    ):
        op.drop_column("customer_profiles", column)
