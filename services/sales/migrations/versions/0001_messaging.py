"""The shared messaging tables (outbox, inbox, relay watermarks) and the outbox's NOTIFY trigger.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

The DDL is spelled out: a migration creates the tables as they were at this revision,
whatever ``relacja_messaging.tables`` says later.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The shared messaging tables as relacja_messaging.tables defined them at this
    # revision (the inbox's processed_at index came later: the retention-index revision).
    op.create_table(
        "outbox_events",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("headers", JSONB, nullable=False, comment="Kafka headers as [[name, value], ...] (CloudEvents ce_*)"),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.clock_timestamp()),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_outbox_events_unpublished", "outbox_events", ["id"], postgresql_where=sa.text("published_at IS NULL")
    )
    op.create_index("ix_outbox_events_published_at", "outbox_events", ["published_at"])
    op.create_table(
        "inbox_events",
        sa.Column("consumer", sa.Text, nullable=False),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False, server_default="applied", comment="applied | dead_lettered"),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.clock_timestamp()),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )
    op.create_table(
        "relay_watermarks",
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("high_offset", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.clock_timestamp()),
        sa.PrimaryKeyConstraint("topic", "partition"),
    )
    # One NOTIFY per inserting statement; PostgreSQL delivers it at commit (and drops it
    # on rollback), which is exactly when the relay may look.
    op.execute(
        """
        CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('relacja_outbox', '');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER outbox_events_notify AFTER INSERT ON outbox_events FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER outbox_events_notify ON outbox_events")
    op.execute("DROP FUNCTION notify_outbox()")
    for table in ("relay_watermarks", "inbox_events", "outbox_events"):
        op.drop_table(table)
