"""Column comments the table models carry and no earlier revision wrote.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

Found by tests/integration/test_migrations.py, which compares the migrated database with
``relacja_tickets.tables``: the comments document the columns for whoever reads the database
(psql, database tools), so every database gets them, not only the models.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# (table, column, comment) as the models had them at this revision.
_COMMENTS = (
    ("sla_policies", "team", "NULL: the default policy for tickets of teams without their own"),
    ("sla_policies", "working_hours", '{"monday": [["09:00","17:00"]], ...}'),
    ("ticket_comments", "body", "NULL only after the customer's erasure"),
    ("tickets", "subject", "NULL only after the customer's erasure"),
    ("tickets", "first_response_seconds", "Business seconds to the first response"),
    ("tickets", "resolution_seconds", "Business seconds to the (last) resolution"),
)


def _literal(comment: str) -> str:
    return "'" + comment.replace("'", "''") + "'"


def upgrade() -> None:
    for table, column, comment in _COMMENTS:
        op.execute(f"COMMENT ON COLUMN {table}.{column} IS {_literal(comment)}")


def downgrade() -> None:
    for table, column, _ in _COMMENTS:
        op.execute(f"COMMENT ON COLUMN {table}.{column} IS NULL")
