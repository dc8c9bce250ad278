"""Tables of the orders service (created by migrations/versions/0002_orders.py, 0004 adds
the import fingerprint, 0006 the coupons).

    products         the catalog; an order copies price, cost and tax rate into its lines
    known_customers  projection of relacja.customers: who may order (active), who was
                     merged into whom, who was erased
    orders           one row per order; lines as JSONB (always read and written whole, and
                     copied into every event), amounts as columns for sums and filters
    order_returns    return requests / complaints about goods and their decision
    order_imports    historical import jobs with progress and row errors
    coupons          projection of relacja.loyalty's coupons, with the uses counted here:
                     an order redeems its coupon in its own transaction
    order_drafts     draft orders the sales service asked for when a deal was won (0007)
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    Sequence,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

__all__ = [
    "metadata",
    "products",
    "known_customers",
    "orders",
    "order_returns",
    "order_imports",
    "coupons",
    "order_drafts",
    "order_number_seq",
    "IMPORTED_FIELDS",
    "import_fingerprint_sql",
]

metadata = MetaData()

MONEY = Numeric(18, 4)

order_number_seq = Sequence("order_number_seq", metadata=metadata)
# Human-readable order numbers (O-000000001), drawn by the database for live and imported orders alike.
NUMBER_DEFAULT = text("('O-' || lpad(nextval('order_number_seq')::text, 9, '0'))")

products = Table(
    "products",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("sku", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("category", Text, nullable=True),
    Column("list_price", MONEY, nullable=False),
    Column("unit_cost", MONEY, nullable=True),
    Column("tax_rate", Numeric(6, 4), nullable=False, server_default=text("0")),
    Column("currency", Text, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_products_created_at_id", "created_at", "id"),
)

known_customers = Table(
    "known_customers",
    metadata,
    Column("customer_id", UUID(as_uuid=True), primary_key=True),
    Column("external_id", Text, nullable=True),
    Column("state", Text, nullable=False, comment="active | merged | erased"),
    Column("merged_into", UUID(as_uuid=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_known_customers_external_id", "external_id", postgresql_where=text("external_id IS NOT NULL")),
)

orders = Table(
    "orders",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("number", Text, nullable=False, unique=True, server_default=NUMBER_DEFAULT),
    Column("external_id", Text, nullable=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("status", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("placed_at", DateTime(timezone=True), nullable=False),
    Column("gross_amount", MONEY, nullable=False),
    Column("tax_amount", MONEY, nullable=False),
    Column("total_amount", MONEY, nullable=False),
    Column("returned_amount", MONEY, nullable=False),
    Column("refunded_amount", MONEY, nullable=False),
    Column("net_amount", MONEY, nullable=False),
    Column("cost_amount", MONEY, nullable=True),
    Column("margin", MONEY, nullable=True),
    Column("lines", JSONB, nullable=False),
    Column("imported", Boolean, nullable=False, server_default=text("false")),
    # What the last import wrote: a re-import may only replace an order nobody changed since.
    Column("import_fingerprint", Text, nullable=True, comment="MD5 of the imported row's values (api/imports.py)"),
    Column("imported_version", Integer, nullable=True, comment="The version the last import wrote"),
    # The coupon the order redeemed (its use is given back when the order is cancelled).
    Column("coupon_id", UUID(as_uuid=True), nullable=True),
    Column("coupon_code", Text, nullable=True),
    Column(
        "discount_amount",
        MONEY,
        nullable=True,
        comment="The coupon's discount, tax excluded (already in the lines' discount_amount)",
    ),
    Column("payment_reference", Text, nullable=True),
    Column("cancel_reason", Text, nullable=True),
    Column("shipping_address", JSONB, nullable=True, comment="Personal data: cleared when the customer is erased"),
    Column("note", Text, nullable=True, comment="Personal data: cleared when the customer is erased"),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ux_orders_external_id", "external_id", unique=True),
    Index("ix_orders_customer_placed", "customer_id", "placed_at", "id"),
    Index("ix_orders_placed_at_id", "placed_at", "id"),
)

order_returns = Table(
    "order_returns",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("order_id", UUID(as_uuid=True), nullable=False),
    Column("kind", Text, nullable=False, comment="return | complaint"),
    Column("status", Text, nullable=False, comment="requested | accepted | rejected"),
    Column("lines", JSONB, nullable=False, comment="[{line_no, sku, quantity, amount, tax}]"),
    Column("amount", MONEY, nullable=False, comment="Value of the goods, tax excluded"),
    Column("refund_amount", MONEY, nullable=False, comment="Tax included"),
    Column("reason", Text, nullable=True),
    Column("decision_note", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Index("ix_order_returns_order_id", "order_id", "created_at"),
)

order_imports = Table(
    "order_imports",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("status", Text, nullable=False, comment="running | completed | failed"),
    Column("format", Text, nullable=False, comment="csv | ndjson"),
    Column("rows_total", BigInteger, nullable=False, server_default=text("0")),
    Column("rows_created", BigInteger, nullable=False, server_default=text("0")),
    Column("rows_updated", BigInteger, nullable=False, server_default=text("0")),
    Column("rows_unchanged", BigInteger, nullable=False, server_default=text("0")),
    Column("rows_failed", BigInteger, nullable=False, server_default=text("0")),
    Column("errors", JSONB, nullable=False, server_default=text("'[]'")),
    Column("failure", Text, nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Index("ix_order_imports_started_at_id", "started_at", "id"),
)

coupons = Table(
    "coupons",
    metadata,
    Column("coupon_id", UUID(as_uuid=True), primary_key=True),
    Column("code", Text, nullable=False, comment="As the loyalty service issued it"),
    Column("code_key", Text, nullable=False, comment="upper(code): a code is found case-insensitively"),
    Column("offer_id", UUID(as_uuid=True), nullable=True),
    Column("discount_kind", Text, nullable=False, comment="percentage | fixed_amount | free_product"),
    Column("discount_value", MONEY, nullable=False),
    Column("currency", Text, nullable=True),
    Column("applies_to", Text, nullable=False, comment="order | product | category"),
    Column("product_id", UUID(as_uuid=True), nullable=True),
    Column("category", Text, nullable=True),
    Column("minimum_order_value", MONEY, nullable=True),
    Column("valid_from", DateTime(timezone=True), nullable=True),
    Column("valid_until", DateTime(timezone=True), nullable=True),
    Column("max_uses", Integer, nullable=False),
    Column("uses", Integer, nullable=False, server_default=text("0"), comment="Orders not cancelled that redeemed it"),
    Column("customer_id", UUID(as_uuid=True), nullable=True, comment="Null: a public coupon"),
    Column("combinable", Boolean, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ux_coupons_code_key", "code_key", unique=True),
    Index("ix_coupons_customer_id", "customer_id", postgresql_where=text("customer_id IS NOT NULL")),
)

order_drafts = Table(
    "order_drafts",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, comment="The won opportunity's id (one draft per deal)"),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("currency", Text, nullable=False),
    Column("lines", JSONB, nullable=False, comment="[{product_id, quantity, unit_price, discount_amount}] as agreed"),
    Column("amount", MONEY, nullable=False, comment="The deal's amount"),
    Column("owner_id", Text, nullable=False, comment="The sales rep who won the deal"),
    Column("won_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_order_drafts_customer", "customer_id", "won_at"),
)


# The fields an import writes (besides ids), in the order the fingerprint reads them.
IMPORTED_FIELDS = (
    "customer_id",
    "status",
    "channel",
    "currency",
    "placed_at",
    "gross_amount",
    "tax_amount",
    "total_amount",
    "returned_amount",
    "refunded_amount",
    "net_amount",
    "cost_amount",
    "margin",
    "lines",
)


def import_fingerprint_sql(alias: str) -> str:
    """SQL: the MD5 of an imported row's fields, written out independently of the session's
    settings (times as epoch seconds), so that the migration's backfill computes the same."""
    parts = [
        f"extract(epoch FROM {alias}.{c})::text" if c == "placed_at" else f"{alias}.{c}::text" for c in IMPORTED_FIELDS
    ]
    return "md5(" + " || '|' || ".join(f"coalesce({p}, '-')" for p in parts) + ")"
