"""An index on idempotency_keys.created_at, for the purge of keys past their retention.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Databases created from now on already have it (the table definition carries it); this
revision adds it to databases created before.
"""

from alembic import op

from relacja_servicekit.idempotency import create_idempotency_expiry_index

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_expiry_index(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
