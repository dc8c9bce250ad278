"""Contact history (interactions, meetings), important dates and their announcements, consents.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-23

A second head beside 0003 (the customer master's fields); ``alembic upgrade heads`` runs
both. The DDL is spelled out rather than taken from ``relacja_customers.tables``.
Foreign keys to ``customers`` are DEFERRABLE INITIALLY DEFERRED: a merge re-keys these
rows and removes the merged customer in one transaction, in whichever order.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def _customer_fk() -> sa.ForeignKey:
    return sa.ForeignKey("customers.id", deferrable=True, initially="DEFERRED")


def upgrade() -> None:
    op.create_table(
        "interactions",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=True), _customer_fk(), nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=True),
        sa.Column("body", sa.Text, nullable=True),
        sa.Column("agent_id", sa.Text, nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_seconds", sa.Integer, nullable=True),
        sa.Column("scheduled_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scheduled_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attendee_agent_ids", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("attendee_emails", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
        sa.Column(
            "calendar_agent_ids",
            ARRAY(sa.Text),
            sa.Computed("array_remove(attendee_agent_ids || agent_id, NULL)", persisted=True),
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "channel IN ('phone', 'email', 'chat', 'meeting', 'social', 'visit', 'note')",
            name="ck_interactions_channel",
        ),
        sa.CheckConstraint("direction IN ('inbound', 'outbound', 'internal')", name="ck_interactions_direction"),
        sa.CheckConstraint("duration_seconds >= 0", name="ck_interactions_duration"),
        sa.CheckConstraint(
            "(channel = 'meeting') = (scheduled_start IS NOT NULL AND scheduled_end IS NOT NULL)"
            " AND (scheduled_start IS NULL) = (scheduled_end IS NULL)"
            " AND (scheduled_end IS NULL OR scheduled_end > scheduled_start)",
            name="ck_interactions_schedule",
        ),
    )
    op.create_index("ix_interactions_customer_time", "interactions", ["customer_id", "occurred_at", "id"])
    op.create_index(
        "ix_interactions_calendar",
        "interactions",
        ["calendar_agent_ids"],
        postgresql_using="gin",
        postgresql_where=sa.text("scheduled_start IS NOT NULL"),
    )
    op.create_index(
        "ix_interactions_scheduled",
        "interactions",
        ["scheduled_start", "id"],
        postgresql_where=sa.text("scheduled_start IS NOT NULL"),
    )

    op.create_table(
        "important_dates",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=True), _customer_fk(), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("month", sa.SmallInteger, nullable=False),
        sa.Column("day", sa.SmallInteger, nullable=False),
        sa.Column("year", sa.SmallInteger, nullable=True),
        sa.Column("label", sa.Text, nullable=True),
        sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("month BETWEEN 1 AND 12 AND day BETWEEN 1 AND 31", name="ck_important_dates_month_day"),
        sa.CheckConstraint(
            "kind IN ('birthday', 'name_day', 'purchase_anniversary', 'contract_anniversary', 'custom')",
            name="ck_important_dates_kind",
        ),
    )
    op.create_index("ix_important_dates_customer", "important_dates", ["customer_id", "month", "day", "id"])
    op.create_index("ix_important_dates_month_day", "important_dates", ["month", "day", "id"])

    op.create_table(
        "important_date_announcements",
        sa.Column(
            "important_date_id",
            UUID(as_uuid=True),
            sa.ForeignKey("important_dates.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("occurrence_year", sa.SmallInteger, nullable=False),
        sa.Column("occurs_on", sa.Date, nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("important_date_id", "occurrence_year"),
    )

    op.create_table(
        "consent_records",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False, unique=True),
        sa.Column("customer_id", UUID(as_uuid=True), _customer_fk(), nullable=False),
        sa.Column("consent_id", UUID(as_uuid=True), nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("partner_id", sa.Text, nullable=True),
        sa.Column("partner_purpose", sa.Text, nullable=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text, nullable=True),
        sa.Column("recorded_by", sa.Text, nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('email_marketing', 'sms_marketing', 'phone_marketing', 'profiling', 'partner_sharing')",
            name="ck_consent_records_purpose",
        ),
        sa.CheckConstraint("status IN ('granted', 'withdrawn')", name="ck_consent_records_status"),
        sa.CheckConstraint(
            "(purpose = 'partner_sharing') = (partner_id IS NOT NULL AND partner_purpose IS NOT NULL)"
            " AND (partner_id IS NULL) = (partner_purpose IS NULL)",
            name="ck_consent_records_partner",
        ),
    )
    op.create_index(
        "ix_consent_records_current",
        "consent_records",
        ["customer_id", "purpose", "partner_id", "partner_purpose", "occurred_at", "seq"],
    )
    op.create_index("ix_consent_records_history", "consent_records", ["customer_id", "occurred_at", "seq"])


def downgrade() -> None:
    op.drop_table("consent_records")
    op.drop_table("important_date_announcements")
    op.drop_table("important_dates")
    op.drop_table("interactions")
