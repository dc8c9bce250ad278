"""The customers projection: tickets are opened only for customers the customers service has.

Fed by ``relacja.customers`` (registered, merged, erased) and, on a miss, by one look-up
at the customers service (``relacja_servicekit.customer_directory``), which also fills it
for customers registered before this revision: no backfill is needed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE known_customers (
            customer_id uuid PRIMARY KEY,
            state text NOT NULL,
            merged_into uuid,
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("COMMENT ON COLUMN known_customers.state IS 'active | merged | erased'")


def downgrade() -> None:
    op.execute("DROP TABLE known_customers")
