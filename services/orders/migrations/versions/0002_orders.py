"""Catalog, customer projection, orders, returns, import jobs and idempotency keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Explicit DDL: the tables as they are at this revision, whatever ``tables.py`` says later.
``orders.external_id`` has a plain unique index (NULLs are distinct), the conflict target
of the import's ``INSERT ... ON CONFLICT (external_id)``.
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_DDL = """
CREATE SEQUENCE order_number_seq;

CREATE TABLE products (
    id uuid PRIMARY KEY,
    sku text NOT NULL UNIQUE,
    name text NOT NULL,
    category text,
    list_price numeric(18, 4) NOT NULL,
    unit_cost numeric(18, 4),
    tax_rate numeric(6, 4) NOT NULL DEFAULT 0,
    currency text NOT NULL,
    active boolean NOT NULL DEFAULT true,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_products_created_at_id ON products (created_at, id);

CREATE TABLE known_customers (
    customer_id uuid PRIMARY KEY,
    external_id text,
    state text NOT NULL,
    merged_into uuid,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_known_customers_external_id ON known_customers (external_id) WHERE external_id IS NOT NULL;

CREATE TABLE orders (
    id uuid PRIMARY KEY,
    number text NOT NULL UNIQUE DEFAULT ('O-' || lpad(nextval('order_number_seq')::text, 9, '0')),
    external_id text,
    customer_id uuid NOT NULL,
    status text NOT NULL,
    channel text NOT NULL,
    currency text NOT NULL,
    placed_at timestamptz NOT NULL,
    gross_amount numeric(18, 4) NOT NULL,
    tax_amount numeric(18, 4) NOT NULL,
    total_amount numeric(18, 4) NOT NULL,
    returned_amount numeric(18, 4) NOT NULL,
    refunded_amount numeric(18, 4) NOT NULL,
    net_amount numeric(18, 4) NOT NULL,
    cost_amount numeric(18, 4),
    margin numeric(18, 4),
    lines jsonb NOT NULL,
    imported boolean NOT NULL DEFAULT false,
    payment_reference text,
    cancel_reason text,
    shipping_address jsonb,
    note text,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ux_orders_external_id ON orders (external_id);
CREATE INDEX ix_orders_customer_placed ON orders (customer_id, placed_at, id);
CREATE INDEX ix_orders_placed_at_id ON orders (placed_at, id);

CREATE TABLE order_returns (
    id uuid PRIMARY KEY,
    order_id uuid NOT NULL,
    kind text NOT NULL,
    status text NOT NULL,
    lines jsonb NOT NULL,
    amount numeric(18, 4) NOT NULL,
    refund_amount numeric(18, 4) NOT NULL,
    reason text,
    decision_note text,
    created_at timestamptz NOT NULL DEFAULT now(),
    decided_at timestamptz
);
CREATE INDEX ix_order_returns_order_id ON order_returns (order_id, created_at);

CREATE TABLE order_imports (
    id uuid PRIMARY KEY,
    status text NOT NULL,
    format text NOT NULL,
    rows_total bigint NOT NULL DEFAULT 0,
    rows_created bigint NOT NULL DEFAULT 0,
    rows_updated bigint NOT NULL DEFAULT 0,
    rows_unchanged bigint NOT NULL DEFAULT 0,
    rows_failed bigint NOT NULL DEFAULT 0,
    errors jsonb NOT NULL DEFAULT '[]',
    failure text,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX ix_order_imports_started_at_id ON order_imports (started_at, id);

-- relacja_servicekit.idempotency's table as it was at this revision (its created_at index came in 0003).
CREATE TABLE idempotency_keys (
    scope text NOT NULL,
    key text NOT NULL,
    fingerprint text NOT NULL,
    status_code integer,
    response_body jsonb,
    response_headers jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
"""


def upgrade() -> None:
    for statement in _DDL.split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    for table in ("idempotency_keys", "order_imports", "order_returns", "orders", "known_customers", "products"):
        op.drop_table(table)
    op.execute("DROP SEQUENCE order_number_seq")
