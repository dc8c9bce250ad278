"""The recommendations projection and what is computed from it.

known_customers         the customers projection every customer-checking service keeps
                        (``relacja_servicekit.known_customers``): state and merge survivor
rec_consents            the customers' ``profiling`` consent records, latest state wins
rec_products            the catalogue as its events (and, until they arrive, order lines) say
rec_orders              one row per order: its customer and the newest snapshot's time
rec_basket_items        a basket = an order's distinct products still kept (not cancelled,
                        not fully returned); customer_id null after an erasure
rec_product_counts      per product: how many baskets in the window hold it
rec_pair_counts         per unordered pair (product_a < product_b): how many baskets in the
                        window hold both
rec_statistics_state    the window start the counts above use, the number of baskets in it,
                        and the last full recomputation
rec_evaluations         stored evaluation reports (hit rate@k and NDCG@k vs the baseline)
rec_refresh_queue       customers whose suggestions changed and are to be announced
                        (``recommendations.refreshed``) by the announcer worker
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Double,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

__all__ = [
    "metadata",
    "known_customers",
    "rec_consents",
    "rec_products",
    "rec_orders",
    "rec_basket_items",
    "rec_product_counts",
    "rec_pair_counts",
    "rec_statistics_state",
    "rec_evaluations",
    "rec_refresh_queue",
]

metadata = MetaData()

MONEY = Numeric(18, 4)

known_customers = Table(
    "known_customers",
    metadata,
    Column("customer_id", UUID(as_uuid=True), primary_key=True),
    Column("state", Text, nullable=False, comment="active | merged | erased"),
    Column("merged_into", UUID(as_uuid=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

rec_consents = Table(
    "rec_consents",
    metadata,
    Column("consent_id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Index("ix_rec_consents_customer", "customer_id"),
)

rec_products = Table(
    "rec_products",
    metadata,
    Column("product_id", UUID(as_uuid=True), primary_key=True),
    Column("sku", Text, nullable=True),
    Column("name", Text, nullable=True),
    Column("category", Text, nullable=True),
    Column("list_price", MONEY, nullable=True),
    Column("unit_cost", MONEY, nullable=True),
    Column("currency", Text, nullable=True),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("version", Integer, nullable=False, server_default="0", comment="0: known from order lines only"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_rec_products_category", "category"),
)

rec_orders = Table(
    "rec_orders",
    metadata,
    Column("order_id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), nullable=True),
    Column("status", Text, nullable=False),
    Column("placed_at", DateTime(timezone=True), nullable=False),
    Column("snapshot_at", DateTime(timezone=True), nullable=False),
    Index("ix_rec_orders_customer", "customer_id"),
)

rec_basket_items = Table(
    "rec_basket_items",
    metadata,
    Column("order_id", UUID(as_uuid=True), nullable=False),
    Column("product_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=True),
    Column("placed_at", DateTime(timezone=True), nullable=False),
    Column("quantity", Integer, nullable=False, comment="Units kept (ordered − returned)"),
    PrimaryKeyConstraint("order_id", "product_id"),
    Index("ix_rec_basket_items_customer", "customer_id", "placed_at"),
    Index("ix_rec_basket_items_product", "product_id"),
)

rec_product_counts = Table(
    "rec_product_counts",
    metadata,
    Column("product_id", UUID(as_uuid=True), primary_key=True),
    Column("basket_count", Integer, nullable=False),
    Index("ix_rec_product_counts_popular", "basket_count"),
)

rec_pair_counts = Table(
    "rec_pair_counts",
    metadata,
    Column("product_a", UUID(as_uuid=True), nullable=False),
    Column("product_b", UUID(as_uuid=True), nullable=False),
    Column("pair_count", Integer, nullable=False),
    PrimaryKeyConstraint("product_a", "product_b"),
    Index("ix_rec_pair_counts_b", "product_b"),
)

rec_statistics_state = Table(
    "rec_statistics_state",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("window_start", DateTime(timezone=True), nullable=False),
    Column("basket_count", Integer, nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=True, comment="Last full recomputation; null: none yet"),
    Column("duration_ms", Integer, nullable=True),
)

rec_evaluations = Table(
    "rec_evaluations",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("split_at", DateTime(timezone=True), nullable=False),
    Column("test_until", DateTime(timezone=True), nullable=False),
    Column("k", SmallInteger, nullable=False),
    Column("parameters", JSONB, nullable=False),
    Column("train_baskets", Integer, nullable=False),
    Column("test_customers", Integer, nullable=False),
    Column("recommender_hit_rate", Double, nullable=False),
    Column("recommender_ndcg", Double, nullable=False),
    Column("baseline_hit_rate", Double, nullable=False),
    Column("baseline_ndcg", Double, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_rec_evaluations_created", "created_at", "id"),
)

rec_refresh_queue = Table(
    "rec_refresh_queue",
    metadata,
    Column("customer_id", UUID(as_uuid=True), primary_key=True),
    Column("consent_changed", Boolean, nullable=False, server_default="false"),
    Column("queued_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
