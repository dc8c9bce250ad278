"""Indexes for the housekeeping's purges (``relacja_servicekit.housekeeping``): stored
Idempotency-Key responses and inbox rows past their retention, found by their age.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22

``IF NOT EXISTS``: databases created before the migrations were frozen got these indexes
from the earlier revisions already (those read today's table models then).
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS ix_idempotency_keys_created_at ON idempotency_keys (created_at)")
    op.execute("CREATE INDEX IF NOT EXISTS ix_inbox_events_processed_at ON inbox_events (processed_at)")


def downgrade() -> None:
    op.drop_index("ix_inbox_events_processed_at", table_name="inbox_events")
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
