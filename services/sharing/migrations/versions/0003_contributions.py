"""Inbound contributions: what partners sent (interactions, leads).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sharing_contributions",
        sa.Column(
            "id", UUID(as_uuid=True), primary_key=True, comment="Also the interaction's (or lead note's) id downstream"
        ),
        sa.Column("partner_id", UUID(as_uuid=True), sa.ForeignKey("sharing_partners.id"), nullable=False),
        sa.Column("agreement_id", UUID(as_uuid=True), sa.ForeignKey("sharing_agreements.id"), nullable=False),
        sa.Column(
            "agreement_version", sa.Integer, nullable=False, comment="The agreement's version when it was received"
        ),
        sa.Column("type", sa.Text, nullable=False, comment="interaction | lead"),
        sa.Column(
            "customer_id", UUID(as_uuid=True), nullable=False, comment="Resolved (interaction) or assigned (lead)"
        ),
        sa.Column(
            "customer_ref",
            sa.Text,
            nullable=True,
            comment="The identifier the partner used or was given; cleared by erasure",
        ),
        sa.Column("data", JSONB, nullable=False, comment="The contributed fields; personal ones removed by erasure"),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "erased_at", sa.DateTime(timezone=True), nullable=True, comment="Set when the customer's data was erased"
        ),
        sa.CheckConstraint("type IN ('interaction', 'lead')", name="ck_sharing_contributions_type"),
    )
    op.create_index(
        "ix_sharing_contributions_partner_received", "sharing_contributions", ["partner_id", "received_at", "id"]
    )
    op.create_index("ix_sharing_contributions_received", "sharing_contributions", ["received_at", "id"])
    op.create_index("ix_sharing_contributions_customer", "sharing_contributions", ["customer_id"])


def downgrade() -> None:
    op.drop_table("sharing_contributions")
