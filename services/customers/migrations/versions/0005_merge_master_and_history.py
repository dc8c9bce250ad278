"""Join the customer-master (0003) and contact-history (0004) branches into one head.

Revision ID: 0005
Revises: 0003, 0004
Create Date: 2026-11-22

Both branches grew from 0002 at the same time and touch different tables; from here on
the history is linear again, so ``alembic upgrade head`` works for operators.
"""

revision = "0005"
down_revision = ("0003", "0004")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: this revision only joins the two branches."""


def downgrade() -> None:
    """Nothing to change: this revision only joins the two branches."""
