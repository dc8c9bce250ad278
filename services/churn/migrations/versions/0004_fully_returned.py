"""``churn_orders.fully_returned``: a purchase is an order neither cancelled nor fully
returned, whatever its amount (``domain.purchases``); the net amount alone cannot tell a
free order from a fully returned one.

Rows projected before this revision only knew their net amount, so the upgrade marks
those with a net amount of 0 as fully returned — the cohort they were counted in so far.
The next snapshot of such an order sets the flag from its lines; replaying
relacja.orders into a fresh projection sets every row.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("churn_orders", sa.Column("fully_returned", sa.Boolean, nullable=False, server_default="false"))
    op.execute("UPDATE churn_orders SET fully_returned = true WHERE net_amount = 0")


def downgrade() -> None:
    op.drop_column("churn_orders", "fully_returned")
