"""Coupons at checkout: the projection of the loyalty service's coupons, and the coupon an
order redeemed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

Explicit DDL: the tables as they are at this revision, whatever ``tables.py`` says later.
``coupons.uses`` is counted here, not by the loyalty service: an order redeems its coupon
in its own transaction (``UPDATE coupons SET uses = uses + 1 WHERE ... uses < max_uses``).
Existing orders have no coupon (the three new columns are NULL).
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_DDL = """
CREATE TABLE coupons (
    coupon_id uuid PRIMARY KEY,
    code text NOT NULL,
    code_key text NOT NULL,
    offer_id uuid,
    discount_kind text NOT NULL,
    discount_value numeric(18, 4) NOT NULL,
    currency text,
    applies_to text NOT NULL,
    product_id uuid,
    category text,
    minimum_order_value numeric(18, 4),
    valid_from timestamptz,
    valid_until timestamptz,
    max_uses integer NOT NULL,
    uses integer NOT NULL DEFAULT 0,
    customer_id uuid,
    combinable boolean NOT NULL,
    issued_at timestamptz NOT NULL,
    revoked_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ux_coupons_code_key ON coupons (code_key);
CREATE INDEX ix_coupons_customer_id ON coupons (customer_id) WHERE customer_id IS NOT NULL;
COMMENT ON COLUMN coupons.code IS 'As the loyalty service issued it';
COMMENT ON COLUMN coupons.code_key IS 'upper(code): a code is found case-insensitively';
COMMENT ON COLUMN coupons.discount_kind IS 'percentage | fixed_amount | free_product';
COMMENT ON COLUMN coupons.applies_to IS 'order | product | category';
COMMENT ON COLUMN coupons.uses IS 'Orders not cancelled that redeemed it';
COMMENT ON COLUMN coupons.customer_id IS 'Null: a public coupon';

ALTER TABLE orders
    ADD COLUMN coupon_id uuid,
    ADD COLUMN coupon_code text,
    ADD COLUMN discount_amount numeric(18, 4);
COMMENT ON COLUMN orders.discount_amount IS 'The coupon''s discount, tax excluded (already in the lines'' discount_amount)';
"""


def upgrade() -> None:
    # One statement per execute: asyncpg prepares each, and a prepared statement holds one command.
    for statement in _DDL.split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    op.execute("ALTER TABLE orders DROP COLUMN coupon_id, DROP COLUMN coupon_code, DROP COLUMN discount_amount")
    op.execute("DROP TABLE coupons")
