"""The engagement database: the shared messaging tables, the Idempotency-Key responses, and
the engagement tables (templates, triggers, campaigns, the policy, suppressions, the message
log and the projections), with the policy's first row and the ready-made triggers (disabled).

Revision ID: 0001
Revises:
Create Date: 2026-12-05

The DDL is spelled out (frozen): the shared tables as ``services/churn/migrations``
defines them (0001 messaging, the idempotency_keys table of 0002, the purge indexes of
0003), then this service's own; a later change to the models is a new revision.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ENGAGEMENT_TABLES = (
    "eng_campaigns",
    "eng_consents",
    "eng_coupon_redemptions",
    "eng_messages",
    "eng_orders",
    "eng_policy",
    "eng_segment_members",
    "eng_suppressions",
    "eng_templates",
    "eng_triggers",
    "known_customers",
)

# The ready-made triggers (docs/engagement.md): disabled until an operator picks a template
# (and, for the coupons, an offer) and enables them. (key, name, event, conditions JSON, delay, request_review)
READY_MADE = (
    (
        "birthday_coupon",
        "Birthday wishes with a coupon",
        "important_date.upcoming",
        '{"important_date_kinds": ["birthday"]}',
        0,
        False,
    ),
    (
        "name_day_coupon",
        "Name-day wishes with a coupon",
        "important_date.upcoming",
        '{"important_date_kinds": ["name_day"]}',
        0,
        False,
    ),
    ("first_order_thanks", "Thank you after the first order", "order.paid", '{"first_order": true}', 0, False),
    ("review_request", "Review request 7 days after delivery", "order.delivered", "{}", 7 * 86400, True),
    (
        "churn_win_back",
        "Win-back offer when churn risk turns high",
        "churn.risk_tier_changed",
        '{"risk_tiers": ["high"]}',
        0,
        False,
    ),
)


def upgrade() -> None:
    _messaging()
    _idempotency()
    _engagement()
    _seed()


def _messaging() -> None:
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


def _idempotency() -> None:
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
    # The housekeeping's purges find stored responses and inbox rows by their age.
    op.execute("CREATE INDEX ix_idempotency_keys_created_at ON idempotency_keys (created_at)")
    op.execute("CREATE INDEX ix_inbox_events_processed_at ON inbox_events (processed_at)")


def _engagement() -> None:
    op.create_table(
        "eng_campaigns",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("segment_id", sa.UUID(), nullable=False),
        sa.Column("template_id", sa.UUID(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("coupon_offer_id", sa.UUID(), nullable=True),
        sa.Column("holdout_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "currency", sa.Text(), nullable=False, comment="Revenue in the uplift report counts orders in this currency"
        ),
        sa.Column("status", sa.Text(), nullable=False, comment="planned | cancelled"),
        sa.Column("audience_size", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "eng_consents",
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False, comment="email_marketing | sms_marketing | phone_marketing"),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "purpose"),
    )
    op.create_table(
        "eng_coupon_redemptions",
        sa.Column("coupon_id", sa.UUID(), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint("coupon_id", "order_id"),
    )
    op.create_table(
        "eng_messages",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("template_id", sa.UUID(), nullable=True),
        sa.Column("trigger_id", sa.UUID(), nullable=True),
        sa.Column("campaign_id", sa.UUID(), nullable=True),
        sa.Column(
            "occurrence_key",
            sa.Text(),
            nullable=False,
            comment="Unique: one message per trigger occurrence or campaign",
        ),
        sa.Column(
            "status",
            sa.Text(),
            nullable=False,
            comment="scheduled | deferred | suppressed | sent | failed | bounced | held_out",
        ),
        sa.Column("reason", sa.Text(), nullable=True, comment="Why suppressed, deferred, failed or bounced"),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "context",
            JSONB,
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
            comment="The event's variables",
        ),
        sa.Column("coupon_id", sa.UUID(), nullable=True),
        sa.Column("coupon_code", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True, comment="Where it was sent (for bounces)"),
        sa.Column("provider_message_id", sa.Text(), nullable=True, comment="The Message-ID header or the webhook id"),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("occurrence_key", name="uq_eng_messages_occurrence"),
    )
    op.create_index(
        "ix_eng_messages_campaign",
        "eng_messages",
        ["campaign_id"],
        unique=False,
        postgresql_where=sa.text("campaign_id IS NOT NULL"),
    )
    op.create_index("ix_eng_messages_customer", "eng_messages", ["customer_id", "created_at"], unique=False)
    op.create_index(
        "ix_eng_messages_due",
        "eng_messages",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('scheduled', 'deferred')"),
    )
    op.create_index(
        "ix_eng_messages_provider_id",
        "eng_messages",
        ["provider_message_id"],
        unique=False,
        postgresql_where=sa.text("provider_message_id IS NOT NULL"),
    )
    op.create_index(
        "ix_eng_messages_sent",
        "eng_messages",
        ["customer_id", "channel", "sent_at"],
        unique=False,
        postgresql_where=sa.text("sent_at IS NOT NULL"),
    )
    op.create_index(
        "ix_eng_messages_trigger",
        "eng_messages",
        ["trigger_id"],
        unique=False,
        postgresql_where=sa.text("trigger_id IS NOT NULL"),
    )
    op.create_table(
        "eng_orders",
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("total_amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("cancelled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_index("ix_eng_orders_customer_placed", "eng_orders", ["customer_id", "placed_at"], unique=False)
    op.create_table(
        "eng_policy",
        sa.Column("id", sa.Integer(), nullable=False, comment="Always 1: one policy for the service"),
        sa.Column("quiet_hours_start", sa.Time(), nullable=True, comment="Local time; null: no quiet hours"),
        sa.Column("quiet_hours_end", sa.Time(), nullable=True),
        sa.Column(
            "caps",
            JSONB,
            nullable=False,
            comment='[{"channel": "email", "max_messages": 2, "window_days": 7}]',
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "eng_segment_members",
        sa.Column("segment_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("segment_name", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("segment_id", "customer_id"),
    )
    op.create_index("ix_eng_segment_members_customer", "eng_segment_members", ["customer_id"], unique=False)
    op.create_table(
        "eng_suppressions",
        sa.Column("channel", sa.Text(), nullable=False, comment="email | sms | push"),
        sa.Column("address", sa.Text(), nullable=False, comment="Lower-case e-mail address or E.164 phone"),
        sa.Column("reason", sa.Text(), nullable=False, comment="hard_bounce | complaint | manual"),
        sa.Column("customer_id", sa.UUID(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "address"),
    )
    op.create_table(
        "eng_templates",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False, comment="email | sms | push"),
        sa.Column("purpose", sa.Text(), nullable=False, comment="marketing | transactional"),
        sa.Column("fallback_language", sa.Text(), nullable=False),
        sa.Column(
            "variants",
            JSONB,
            nullable=False,
            comment='{"<language>": {"subject": ..., "body": ...}}',
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "eng_triggers",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "ready_made", sa.Text(), nullable=True, comment="The ready-made trigger this row is (seeded disabled)"
        ),
        sa.Column("event", sa.Text(), nullable=False, comment="important_date.upcoming | order.delivered | ..."),
        sa.Column("conditions", JSONB, server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("delay_seconds", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("template_id", sa.UUID(), nullable=True, comment="Null on a ready-made trigger until one is set"),
        sa.Column("coupon_offer_id", sa.UUID(), nullable=True),
        sa.Column("request_review", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("holdout_percent", sa.Numeric(precision=5, scale=2), server_default=sa.text("0"), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ready_made", name="uq_eng_triggers_ready_made"),
    )
    op.create_index(
        "ix_eng_triggers_event", "eng_triggers", ["event"], unique=False, postgresql_where=sa.text("enabled")
    )
    op.create_table(
        "known_customers",
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False, comment="active | merged | erased"),
        sa.Column("merged_into", sa.UUID(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("given_name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("preferred_language", sa.Text(), nullable=True),
        sa.Column(
            "country", sa.Text(), nullable=True, comment="ISO 3166-1 alpha-2 of the first address: the time zone"
        ),
        sa.Column("lifecycle_stage", sa.Text(), nullable=True),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
        sa.Column("loyalty_tier", sa.Text(), nullable=True),
        sa.Column("churn_risk_tier", sa.Text(), nullable=True),
        sa.Column(
            "profile_fetched_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="When the contact details were read from the customers service; null: read them before sending",
        ),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    # ### end Alembic commands ###


def _seed() -> None:
    op.execute(
        "INSERT INTO eng_policy (id, quiet_hours_start, quiet_hours_end, caps, version, updated_at) VALUES "
        "(1, '21:00', '08:00', "
        '\'[{"channel": "email", "max_messages": 2, "window_days": 7}, '
        '{"channel": "sms", "max_messages": 2, "window_days": 7}, '
        '{"channel": "push", "max_messages": 3, "window_days": 7}]\'::jsonb, 1, now())'
    )
    for key, name, event, conditions, delay, review in READY_MADE:
        op.execute(
            sa.text(
                "INSERT INTO eng_triggers (id, name, ready_made, event, conditions, delay_seconds, channel, "
                "request_review, holdout_percent, enabled, version, created_at, updated_at) VALUES "
                "(gen_random_uuid(), :name, :key, :event, CAST(:conditions AS jsonb), :delay, 'email', :review, 0, "
                "false, 1, now(), now())"
            ).bindparams(name=name, key=key, event=event, conditions=conditions, delay=delay, review=review)
        )


def downgrade() -> None:
    for table in reversed(ENGAGEMENT_TABLES):
        op.drop_table(table)
    op.drop_table("idempotency_keys")
    op.drop_index("ix_inbox_events_processed_at", table_name="inbox_events")
    op.execute("DROP TRIGGER outbox_events_notify ON outbox_events")
    op.execute("DROP FUNCTION notify_outbox()")
    for table in ("relay_watermarks", "inbox_events", "outbox_events"):
        op.drop_table(table)
