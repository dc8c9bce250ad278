"""The sharing database: the shared messaging and Idempotency-Key tables, partners and their
keys, agreements and their versions, the projection (customers, segments, consents), the
recipients, the feed and the disclosure log.

Revision ID: 0001
Revises:
Create Date: 2026-12-05

The DDL is spelled out: a migration creates the tables as they were at this revision,
whatever ``relacja_sharing.tables`` or the shared table models say later.
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

    # The Idempotency-Key table as relacja_servicekit.idempotency defines it, and the two
    # purge indexes of the housekeeping (churn's 0002 and 0003 spell the same).
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
    op.execute("CREATE INDEX ix_idempotency_keys_created_at ON idempotency_keys (created_at)")
    op.execute("CREATE INDEX ix_inbox_events_processed_at ON inbox_events (processed_at)")

    op.create_table(
        "sharing_partners",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("legal_name", sa.Text, nullable=False),
        sa.Column("contacts", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("status", sa.Text, nullable=False, comment="active | suspended"),
        sa.Column("pseudonym_ipad", sa.LargeBinary, nullable=False, comment="RFC 2104 inner padded key (key XOR 0x36)"),
        sa.Column("pseudonym_opad", sa.LargeBinary, nullable=False, comment="RFC 2104 outer padded key (key XOR 0x5c)"),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "sharing_partner_keys",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("partner_id", UUID(as_uuid=True), sa.ForeignKey("sharing_partners.id"), nullable=False),
        sa.Column(
            "lookup", sa.Text, nullable=False, unique=True, comment="The public part of the key (rpk_<lookup>_...)"
        ),
        sa.Column("secret_hash", sa.Text, nullable=False, comment="SHA-256 (hex) of the secret part"),
        sa.Column("label", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_sharing_partner_keys_partner_id", "sharing_partner_keys", ["partner_id"])
    op.create_table(
        "sharing_agreements",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("partner_id", UUID(as_uuid=True), sa.ForeignKey("sharing_partners.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, comment="draft | active | suspended | terminated"),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("purposes", JSONB, nullable=False),
        sa.Column("direction", sa.Text, nullable=False, comment="outbound | inbound | both"),
        sa.Column("legal_basis", sa.Text, nullable=False, comment="consent | contract | legitimate_interest"),
        sa.Column("identifier", sa.Text, nullable=False, comment="pseudonym | customer_id | email"),
        sa.Column("allowed_fields", JSONB, nullable=False, comment='{"<event type>": ["<payload field>", ...]}'),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("min_group_size", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_sharing_agreements_partner_id", "sharing_agreements", ["partner_id"])
    op.create_index(
        "ix_sharing_agreements_active", "sharing_agreements", ["id"], postgresql_where=sa.text("status = 'active'")
    )
    op.create_table(
        "sharing_agreement_versions",
        sa.Column("agreement_id", UUID(as_uuid=True), sa.ForeignKey("sharing_agreements.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column(
            "change", sa.Text, nullable=False, comment="created | updated | activate | suspend | resume | terminate"
        ),
        sa.Column("snapshot", JSONB, nullable=False, comment="The agreement as it was at this version"),
        sa.Column("changed_by", sa.Text, nullable=True, comment="The staff member (token subject) who made the change"),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("agreement_id", "version"),
    )
    op.create_table(
        "sharing_customers",
        sa.Column("customer_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("email", sa.Text, nullable=True),
        sa.Column("rfm_segment", sa.Text, nullable=True),
        sa.Column("region", sa.Text, nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "sharing_segment_members",
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("segment_id", UUID(as_uuid=True), nullable=False),
        sa.Column("segment_name", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "segment_id"),
    )
    op.create_table(
        "sharing_consents",
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("partner_id", sa.Text, nullable=False, comment="As the consent names it (a partner's id)"),
        sa.Column("partner_purpose", sa.Text, nullable=False),
        sa.Column("granted", sa.Boolean, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "partner_id", "partner_purpose"),
    )
    op.create_table(
        "sharing_recipients",
        sa.Column("agreement_id", UUID(as_uuid=True), nullable=False),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("partner_id", UUID(as_uuid=True), nullable=False),
        sa.Column("identifier", sa.Text, nullable=False, comment="The customer identifier the partner was given"),
        sa.Column("first_disclosed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("agreement_id", "customer_id"),
    )
    op.create_index("ix_sharing_recipients_partner_identifier", "sharing_recipients", ["partner_id", "identifier"])
    op.create_index("ix_sharing_recipients_customer", "sharing_recipients", ["customer_id"])
    op.create_table(
        "sharing_feed_records",
        sa.Column("position", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("agreement_id", UUID(as_uuid=True), nullable=False),
        sa.Column("partner_id", UUID(as_uuid=True), nullable=False),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column(
            "identifier",
            sa.Text,
            nullable=False,
            comment="Partner-visible customer identifier (the ordering key)",
        ),
        sa.Column("kind", sa.Text, nullable=False, comment="record | rectification | tombstone | erasure"),
        sa.Column("record_id", UUID(as_uuid=True), nullable=False, comment="The CloudEvent id partners see"),
        sa.Column("event_type", sa.Text, nullable=False, comment="The CloudEvent type partners see"),
        sa.Column("agreement_version", sa.Integer, nullable=False),
        sa.Column("purposes", JSONB, nullable=False),
        sa.Column("fields", JSONB, nullable=False, comment="Names of the payload fields disclosed"),
        sa.Column("cloud_event", JSONB, nullable=False, comment="The record as partners receive it (structured mode)"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_sharing_feed_records_agreement_position", "sharing_feed_records", ["agreement_id", "position"])
    op.create_index("ix_sharing_feed_records_created_at", "sharing_feed_records", ["created_at"])
    op.create_table(
        "sharing_disclosures",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("feed_position", sa.BigInteger, nullable=False),
        sa.Column("channel", sa.Text, nullable=False, comment="feed | webhook"),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("partner_id", UUID(as_uuid=True), nullable=False),
        sa.Column("agreement_id", UUID(as_uuid=True), nullable=False),
        sa.Column("agreement_version", sa.Integer, nullable=False),
        sa.Column("purposes", JSONB, nullable=False),
        sa.Column("record_id", UUID(as_uuid=True), nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("fields", JSONB, nullable=False),
        sa.Column("disclosed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index(
        "uq_sharing_disclosures_position_channel", "sharing_disclosures", ["feed_position", "channel"], unique=True
    )
    op.create_index("ix_sharing_disclosures_customer", "sharing_disclosures", ["customer_id", "disclosed_at", "id"])
    op.create_index("ix_sharing_disclosures_disclosed_at", "sharing_disclosures", ["disclosed_at"])


def downgrade() -> None:
    for table in (
        "sharing_disclosures",
        "sharing_feed_records",
        "sharing_recipients",
        "sharing_consents",
        "sharing_segment_members",
        "sharing_customers",
        "sharing_agreement_versions",
        "sharing_agreements",
        "sharing_partner_keys",
        "sharing_partners",
        "idempotency_keys",
    ):
        op.drop_table(table)
    op.execute("DROP TRIGGER outbox_events_notify ON outbox_events")
    op.execute("DROP FUNCTION notify_outbox()")
    for table in ("relay_watermarks", "inbox_events", "outbox_events"):
        op.drop_table(table)
