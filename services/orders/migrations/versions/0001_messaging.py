"""The shared messaging tables (outbox, inbox, relay watermarks).

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op

from relacja_messaging.migrations import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables(op.get_bind())


def downgrade() -> None:
    drop_messaging_tables(op.get_bind())
