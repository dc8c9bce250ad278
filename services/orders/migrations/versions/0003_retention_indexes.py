"""Indexes for the housekeeping's purges: idempotency_keys.created_at and
inbox_events.processed_at (rows past their retention are deleted).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Databases created from now on already have them (the table definitions carry them);
this revision adds them to databases created before.
"""

from alembic import op

from relacja_messaging.retention import create_inbox_retention_index
from relacja_servicekit.idempotency import create_idempotency_expiry_index

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_expiry_index(op.get_bind())
    create_inbox_retention_index(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_index("ix_inbox_events_processed_at", table_name="inbox_events")
