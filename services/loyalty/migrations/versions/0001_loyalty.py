"""The loyalty database: the shared messaging tables, the Idempotency-Key responses, and
the loyalty tables (programmes, members, the ledger, orders, offers, rewards, coupons, projections).

Revision ID: 0001
Revises:
Create Date: 2026-12-05

The DDL is spelled out (frozen): the shared tables as ``services/churn/migrations``
defines them (0001 messaging, the idempotency_keys table of 0002, the purge indexes of
0003), then this service's own; a later change to the models is a new revision.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

LOYALTY_TABLES = (
    "known_customers",
    "loyalty_coupon_uses",
    "loyalty_coupons",
    "loyalty_ledger",
    "loyalty_members",
    "loyalty_offers",
    "loyalty_orders",
    "loyalty_programmes",
    "loyalty_rewards",
    "loyalty_segment_members",
)


def upgrade() -> None:
    _messaging()
    _idempotency()
    _loyalty()


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


def _loyalty() -> None:
    op.create_table(
        "known_customers",
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False, comment="active | merged | erased"),
        sa.Column("merged_into", sa.UUID(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.create_table(
        "loyalty_coupon_uses",
        sa.Column("coupon_id", sa.UUID(), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("coupon_id", "order_id"),
    )
    op.create_table(
        "loyalty_coupons",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("offer_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=True, comment="Null: public"),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("status", sa.Text(), nullable=False, comment="active | revoked"),
        sa.Column("source", sa.Text(), nullable=False, comment="bulk | reward | request"),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_index(
        "ix_loyalty_coupons_customer",
        "loyalty_coupons",
        ["customer_id"],
        unique=False,
        postgresql_where=sa.text("customer_id IS NOT NULL"),
    )
    op.create_index("ix_loyalty_coupons_offer", "loyalty_coupons", ["offer_id"], unique=False)
    op.create_table(
        "loyalty_ledger",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False, comment="earn | redeem | expire | reverse | adjust"),
        sa.Column("points", sa.Integer(), nullable=False, comment="Signed: what the entry adds to the balance"),
        sa.Column("rule", sa.Text(), nullable=True, comment="earn: purchase | welcome | order_bonus"),
        sa.Column("order_id", sa.UUID(), nullable=True),
        sa.Column(
            "remaining", sa.Integer(), nullable=True, comment="Lots (earn, positive adjust): points not yet taken"
        ),
        sa.Column("spendable_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "debt",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
            comment="reverse: debt added; lot: settled",
        ),
        sa.Column("takes", JSONB, nullable=True, comment="[[lot_id, points]] taken from lots"),
        sa.Column("reward_id", sa.UUID(), nullable=True),
        sa.Column("coupon_id", sa.UUID(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    op.create_index(
        "ix_loyalty_ledger_expiring",
        "loyalty_ledger",
        ["expires_at"],
        unique=False,
        postgresql_where=sa.text("remaining > 0"),
    )
    op.create_index("ix_loyalty_ledger_member_seq", "loyalty_ledger", ["member_id", "seq"], unique=False)
    op.create_index(
        "ix_loyalty_ledger_open_lots",
        "loyalty_ledger",
        ["member_id"],
        unique=False,
        postgresql_where=sa.text("remaining > 0"),
    )
    op.create_index(
        "ux_loyalty_ledger_earn_per_order_rule",
        "loyalty_ledger",
        ["order_id", "rule"],
        unique=True,
        postgresql_where=sa.text("kind = 'earn' AND order_id IS NOT NULL"),
    )
    op.create_table(
        "loyalty_members",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("programme_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("card_number", sa.Text(), nullable=True, comment="Null after erasure"),
        sa.Column("status", sa.Text(), nullable=False, comment="active | left | merged | erased"),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("merged_into", sa.UUID(), nullable=True),
        sa.Column(
            "birth_month", sa.SmallInteger(), nullable=True, comment="From the customer's birthday (personal data)"
        ),
        sa.Column(
            "balance", sa.Integer(), server_default=sa.text("0"), nullable=False, comment="= sum(loyalty_ledger.points)"
        ),
        sa.Column("debt", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("tier", sa.Text(), nullable=True),
        sa.Column("tier_below_since", sa.DateTime(timezone=True), nullable=True, comment="Grace period start"),
        sa.Column("tier_evaluated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("card_number"),
    )
    op.create_index("ix_loyalty_members_customer", "loyalty_members", ["customer_id"], unique=False)
    op.create_index(
        "ux_loyalty_members_programme_customer", "loyalty_members", ["programme_id", "customer_id"], unique=True
    )
    op.create_table(
        "loyalty_offers",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("discount_kind", sa.Text(), nullable=False, comment="percentage | fixed_amount | free_product"),
        sa.Column("discount_value", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("currency", sa.Text(), nullable=True),
        sa.Column("applies_to", sa.Text(), nullable=False, comment="order | product | category"),
        sa.Column("product_id", sa.UUID(), nullable=True),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("minimum_order_value", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("audience", sa.Text(), nullable=False, comment="everyone | segment | tier"),
        sa.Column("segment_id", sa.UUID(), nullable=True),
        sa.Column("tier", sa.Text(), nullable=True),
        sa.Column("combinable", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "loyalty_orders",
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.UUID(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("gross_amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("returned_amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("net_amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("cancelled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("points_earned", sa.Integer(), nullable=False),
        sa.Column("points_reversed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("snapshot_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_index("ix_loyalty_orders_member_paid", "loyalty_orders", ["member_id", "paid_at"], unique=False)
    op.create_table(
        "loyalty_programmes",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("points_per_unit", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("category_multipliers", JSONB, nullable=False, comment="category → multiplier (decimal strings)"),
        sa.Column("welcome_points", sa.Integer(), nullable=False),
        sa.Column("birthday_multiplier", sa.Numeric(precision=8, scale=4), nullable=False),
        sa.Column("order_bonus_threshold", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("order_bonus_points", sa.Integer(), nullable=False),
        sa.Column("pending_period_seconds", sa.Integer(), nullable=False),
        sa.Column("expiry_policy", sa.Text(), nullable=False, comment="after_months | end_of_year | never"),
        sa.Column("expiry_months", sa.Integer(), nullable=True),
        sa.Column("expiring_soon_days", sa.Integer(), nullable=False),
        sa.Column(
            "point_value",
            sa.Numeric(precision=12, scale=6),
            nullable=False,
            comment="Money value of one point (liability)",
        ),
        sa.Column("tier_basis", sa.Text(), nullable=False, comment="points | spend"),
        sa.Column("tier_window_months", sa.Integer(), nullable=False),
        sa.Column("tier_grace_days", sa.Integer(), nullable=False),
        sa.Column("tiers", JSONB, nullable=False, comment="[{name, threshold, multiplier}]"),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "loyalty_rewards",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("programme_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("points_cost", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.UUID(), nullable=False),
        sa.Column("tier", sa.Text(), nullable=True, comment="Only members of this tier may redeem it"),
        sa.Column("coupon_valid_days", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "loyalty_segment_members",
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("segment_id", sa.UUID(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "segment_id"),
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    for table in reversed(LOYALTY_TABLES):
        op.drop_table(table)
    op.drop_table("idempotency_keys")
    op.drop_index("ix_inbox_events_processed_at", table_name="inbox_events")
    op.execute("DROP TRIGGER outbox_events_notify ON outbox_events")
    op.execute("DROP FUNCTION notify_outbox()")
    for table in ("relay_watermarks", "inbox_events", "outbox_events"):
        op.drop_table(table)
