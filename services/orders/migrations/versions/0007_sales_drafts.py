"""Draft orders the sales service asks for when a deal is won (OpportunityWonV1, draft_order).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE order_drafts (
            id uuid PRIMARY KEY,
            customer_id uuid NOT NULL,
            currency text NOT NULL,
            lines jsonb NOT NULL,
            amount numeric(18, 4) NOT NULL,
            owner_id text NOT NULL,
            won_at timestamptz NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX ix_order_drafts_customer ON order_drafts (customer_id, won_at)")
    for column, comment in (
        ("id", "The won opportunity''s id (one draft per deal)"),
        ("lines", "[{product_id, quantity, unit_price, discount_amount}] as agreed"),
        ("amount", "The deal''s amount"),
        ("owner_id", "The sales rep who won the deal"),
    ):
        op.execute(f"COMMENT ON COLUMN order_drafts.{column} IS '{comment}'")


def downgrade() -> None:
    op.execute("DROP TABLE order_drafts")
