"""Customers, and the shared messaging and idempotency tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op

from relacja_customers.tables import customers
from relacja_messaging.migrations import create_messaging_tables, drop_messaging_tables
from relacja_servicekit.idempotency import create_idempotency_table, idempotency_keys

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    customers.create(op.get_bind())
    create_messaging_tables(op.get_bind())
    create_idempotency_table(op.get_bind())


def downgrade() -> None:
    idempotency_keys.drop(op.get_bind())
    drop_messaging_tables(op.get_bind())
    customers.drop(op.get_bind())
