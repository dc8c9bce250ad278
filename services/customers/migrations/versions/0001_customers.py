"""Customers, and the shared messaging and idempotency tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

The DDL is spelled out here rather than taken from ``relacja_customers.tables``: a
migration must create the table as it was at this revision, whatever the model says later.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from relacja_messaging.migrations import create_messaging_tables, drop_messaging_tables
from relacja_servicekit.idempotency import create_idempotency_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=True),
        sa.Column("email_normalized", sa.Text, nullable=True),
        sa.Column("lifecycle_stage", sa.Text, nullable=False),
        sa.Column("external_id", sa.Text, nullable=True),
        sa.Column("tags", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index(
        "ux_customers_email_normalized", "customers", ["email_normalized"], unique=True,
        postgresql_where=sa.text("email_normalized IS NOT NULL"),
    )
    op.create_index(
        "ux_customers_external_id", "customers", ["external_id"], unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_index("ix_customers_created_at_id", "customers", ["created_at", "id"])
    create_messaging_tables(op.get_bind())
    create_idempotency_table(op.get_bind())


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    drop_messaging_tables(op.get_bind())
    op.drop_table("customers")
