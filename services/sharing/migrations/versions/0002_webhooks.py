"""Webhooks: the shared sender's endpoint, message and attempt tables (relacja_webhooks, with the
agreement and partner added to endpoints) and the trigger that queues a message per feed record.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05

The DDL is spelled out as ``relacja_webhooks.webhook_tables`` made it at this revision.
The trigger is the hook from the feed into the queue: after each statement that appends
feed records it queues, in the same transaction and in feed order, one message per (record,
enabled endpoint of the record's agreement whose event-type filter takes it); tombstones and
erasure notices go to every enabled endpoint of the agreement whatever its filter, and first
cancel what is still pending about that customer there (an erasure also blanks the data of
that customer's queued records, so a later redelivery cannot resend it).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sharing_webhook_endpoints",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("partner_id", UUID(as_uuid=True), sa.ForeignKey("sharing_partners.id"), nullable=False),
        sa.Column("agreement_id", UUID(as_uuid=True), sa.ForeignKey("sharing_agreements.id"), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column(
            "event_types", ARRAY(sa.Text), nullable=False, server_default="{}", comment="empty: every event type"
        ),
        sa.Column("status", sa.Text, nullable=False, server_default="enabled", comment="enabled | disabled"),
        sa.Column("disabled_reason", sa.Text, nullable=True, comment="gone (410) | failing | manual"),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("secret", sa.Text, nullable=False, comment="whsec_...; signs every attempt"),
        sa.Column(
            "previous_secret", sa.Text, nullable=True, comment="signs beside secret until previous_secret_expires_at"
        ),
        sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_concurrency", sa.Integer, nullable=False, server_default="10"),
        sa.Column("rate_limit_per_second", sa.Integer, nullable=True, comment="null: unlimited"),
        sa.Column("rate_tokens", sa.Double, nullable=False, server_default="0"),
        sa.Column("rate_refilled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "failing_since", sa.DateTime(timezone=True), nullable=True, comment="first failure since the last success"
        ),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_sharing_webhook_endpoints_partner_id", "sharing_webhook_endpoints", ["partner_id"])
    op.create_index("ix_sharing_webhook_endpoints_agreement_id", "sharing_webhook_endpoints", ["agreement_id"])
    op.create_table(
        "sharing_webhook_messages",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("message_id", sa.Text, nullable=False, unique=True, comment="the webhook-id header"),
        sa.Column(
            "endpoint_id",
            UUID(as_uuid=True),
            sa.ForeignKey("sharing_webhook_endpoints.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("ordering_key", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False, comment="the exact JSON body signed and sent"),
        sa.Column("meta", JSONB, nullable=True, comment="the owner service's reference"),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column(
            "failures", sa.Integer, nullable=False, server_default="0", comment="failed attempts since (re)queued"
        ),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True, comment="an attempt in flight until then"),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "cancelled_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="cancelled while an attempt was in flight: not retried if that attempt fails",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index(
        "ix_sharing_webhook_messages_due",
        "sharing_webhook_messages",
        ["endpoint_id", "next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_sharing_webhook_messages_open_key",
        "sharing_webhook_messages",
        ["endpoint_id", "ordering_key", "id"],
        postgresql_where=sa.text("status IN ('pending', 'delivering')"),
    )
    op.create_index(
        "ix_sharing_webhook_messages_in_flight",
        "sharing_webhook_messages",
        ["endpoint_id", "lease_until"],
        postgresql_where=sa.text("status = 'delivering'"),
    )
    op.create_index("ix_sharing_webhook_messages_endpoint", "sharing_webhook_messages", ["endpoint_id", "id"])
    op.create_index("ix_sharing_webhook_messages_created_at", "sharing_webhook_messages", ["endpoint_id", "created_at"])
    op.create_table(
        "sharing_webhook_attempts",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column(
            "message_pk",
            sa.BigInteger,
            sa.ForeignKey("sharing_webhook_messages.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("endpoint_id", UUID(as_uuid=True), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.Text, nullable=False, comment="succeeded | failed | gone"),
        sa.Column("status_code", sa.Integer, nullable=True, comment="null: no response"),
        sa.Column("latency_ms", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("response_excerpt", sa.Text, nullable=True),
    )
    op.create_index("ix_sharing_webhook_attempts_message", "sharing_webhook_attempts", ["message_pk", "id"])
    op.create_index("ix_sharing_webhook_attempts_endpoint", "sharing_webhook_attempts", ["endpoint_id", "id"])
    op.execute(
        """
        CREATE FUNCTION sharing_feed_to_webhooks() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            -- A tombstone or erasure: what is still queued about the customer there is not sent.
            -- An attempt in flight finishes (it keeps later messages of the customer waiting) but
            -- is not retried if it fails (cancelled_at).
            UPDATE sharing_webhook_messages m
               SET status = CASE WHEN m.status = 'pending' THEN 'cancelled' ELSE m.status END,
                   cancelled_at = CASE WHEN m.status IN ('pending', 'delivering') THEN now() ELSE m.cancelled_at END,
                   body = CASE WHEN n.kind = 'erasure'
                               THEN jsonb_set(CAST(m.body AS jsonb), '{data}', '{}'::jsonb)::text
                               ELSE m.body END
              FROM new_records n JOIN sharing_webhook_endpoints e ON e.agreement_id = n.agreement_id
             WHERE n.kind IN ('tombstone', 'erasure') AND m.endpoint_id = e.id
               AND m.ordering_key = n.identifier AND m.meta ->> 'kind' IN ('record', 'rectification')
               AND (m.status IN ('pending', 'delivering') OR n.kind = 'erasure');
            INSERT INTO sharing_webhook_messages (message_id, endpoint_id, event_type, ordering_key, body, meta)
            SELECT 'msg_' || replace(CAST(gen_random_uuid() AS text), '-', ''), e.id, n.event_type, n.identifier,
                   CAST(n.cloud_event AS text),
                   jsonb_build_object('feed_position', n.position, 'kind', n.kind, 'record_id', n.record_id)
              FROM new_records n JOIN sharing_webhook_endpoints e ON e.agreement_id = n.agreement_id
             WHERE e.status = 'enabled'
               AND (n.kind IN ('tombstone', 'erasure') OR cardinality(e.event_types) = 0
                    OR n.event_type = ANY(e.event_types))
             ORDER BY n.position, e.id;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER sharing_feed_records_webhooks AFTER INSERT ON sharing_feed_records "
        "REFERENCING NEW TABLE AS new_records FOR EACH STATEMENT EXECUTE FUNCTION sharing_feed_to_webhooks()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER sharing_feed_records_webhooks ON sharing_feed_records")
    op.execute("DROP FUNCTION sharing_feed_to_webhooks()")
    for table in ("sharing_webhook_attempts", "sharing_webhook_messages", "sharing_webhook_endpoints"):
        op.drop_table(table)
