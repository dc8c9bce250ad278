"""The recommendations database: the shared messaging tables, the Idempotency-Key table,
the purge indexes, and the service's projection, statistics and evaluations.

Revision ID: 0001
Revises:
Create Date: 2026-12-05

The DDL is spelled out: a migration creates the tables as they were at this revision,
whatever ``tables.py`` or ``relacja_messaging.tables`` say later.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MONEY = sa.Numeric(18, 4)


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
        "known_customers",
        sa.Column("customer_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("state", sa.Text, nullable=False, comment="active | merged | erased"),
        sa.Column("merged_into", UUID(as_uuid=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "rec_consents",
        sa.Column("consent_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("granted", sa.Boolean, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_rec_consents_customer", "rec_consents", ["customer_id"])
    op.create_table(
        "rec_products",
        sa.Column("product_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("sku", sa.Text, nullable=True),
        sa.Column("name", sa.Text, nullable=True),
        sa.Column("category", sa.Text, nullable=True),
        sa.Column("list_price", MONEY, nullable=True),
        sa.Column("unit_cost", MONEY, nullable=True),
        sa.Column("currency", sa.Text, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default="true"),
        sa.Column("version", sa.Integer, nullable=False, server_default="0", comment="0: known from order lines only"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_rec_products_category", "rec_products", ["category"])
    op.create_table(
        "rec_orders",
        sa.Column("order_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("snapshot_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_rec_orders_customer", "rec_orders", ["customer_id"])
    op.create_table(
        "rec_basket_items",
        sa.Column("order_id", UUID(as_uuid=True), nullable=False),
        sa.Column("product_id", UUID(as_uuid=True), nullable=False),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=True),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False, comment="Units kept (ordered − returned)"),
        sa.PrimaryKeyConstraint("order_id", "product_id"),
    )
    op.create_index("ix_rec_basket_items_customer", "rec_basket_items", ["customer_id", "placed_at"])
    op.create_index("ix_rec_basket_items_product", "rec_basket_items", ["product_id"])
    op.create_table(
        "rec_product_counts",
        sa.Column("product_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("basket_count", sa.Integer, nullable=False),
    )
    op.create_index("ix_rec_product_counts_popular", "rec_product_counts", ["basket_count"])
    op.create_table(
        "rec_pair_counts",
        sa.Column("product_a", UUID(as_uuid=True), nullable=False),
        sa.Column("product_b", UUID(as_uuid=True), nullable=False),
        sa.Column("pair_count", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("product_a", "product_b"),
    )
    op.create_index("ix_rec_pair_counts_b", "rec_pair_counts", ["product_b"])
    op.create_table(
        "rec_statistics_state",
        sa.Column("id", sa.SmallInteger, primary_key=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("basket_count", sa.Integer, nullable=False),
        sa.Column(
            "computed_at", sa.DateTime(timezone=True), nullable=True, comment="Last full recomputation; null: none yet"
        ),
        sa.Column("duration_ms", sa.Integer, nullable=True),
    )
    op.create_table(
        "rec_evaluations",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("split_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("test_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("k", sa.SmallInteger, nullable=False),
        sa.Column("parameters", JSONB, nullable=False),
        sa.Column("train_baskets", sa.Integer, nullable=False),
        sa.Column("test_customers", sa.Integer, nullable=False),
        sa.Column("recommender_hit_rate", sa.Double, nullable=False),
        sa.Column("recommender_ndcg", sa.Double, nullable=False),
        sa.Column("baseline_hit_rate", sa.Double, nullable=False),
        sa.Column("baseline_ndcg", sa.Double, nullable=False),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_rec_evaluations_created", "rec_evaluations", ["created_at", "id"])
    op.create_table(
        "rec_refresh_queue",
        sa.Column("customer_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("consent_changed", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    for table in (
        "rec_refresh_queue",
        "rec_evaluations",
        "rec_statistics_state",
        "rec_pair_counts",
        "rec_product_counts",
        "rec_basket_items",
        "rec_orders",
        "rec_products",
        "rec_consents",
        "known_customers",
    ):
        op.drop_table(table)
    op.drop_index("ix_inbox_events_processed_at", table_name="inbox_events")
    op.drop_table("idempotency_keys")
    op.execute("DROP TRIGGER outbox_events_notify ON outbox_events")
    op.execute("DROP FUNCTION notify_outbox()")
    for table in ("relay_watermarks", "inbox_events", "outbox_events"):
        op.drop_table(table)
