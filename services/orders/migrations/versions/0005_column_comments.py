"""Column comments the table models carry and no earlier revision wrote.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

Found by tests/integration/test_migrations.py, which compares the migrated database with
``relacja_orders.tables``: the comments document the columns for whoever reads the database
(psql, database tools), so every database gets them, not only the models.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# (table, column, comment) as the models had them at this revision.
_COMMENTS = (
    ("known_customers", "state", "active | merged | erased"),
    ("order_imports", "status", "running | completed | failed"),
    ("order_imports", "format", "csv | ndjson"),
    ("order_returns", "kind", "return | complaint"),
    ("order_returns", "status", "requested | accepted | rejected"),
    ("order_returns", "lines", "[{line_no, sku, quantity, amount, tax}]"),
    ("order_returns", "amount", "Value of the goods, tax excluded"),
    ("order_returns", "refund_amount", "Tax included"),
    ("orders", "shipping_address", "Personal data: cleared when the customer is erased"),
    ("orders", "note", "Personal data: cleared when the customer is erased"),
)


def _literal(comment: str) -> str:
    return "'" + comment.replace("'", "''") + "'"


def upgrade() -> None:
    for table, column, comment in _COMMENTS:
        op.execute(f"COMMENT ON COLUMN {table}.{column} IS {_literal(comment)}")


def downgrade() -> None:
    for table, column, _ in _COMMENTS:
        op.execute(f"COMMENT ON COLUMN {table}.{column} IS NULL")
