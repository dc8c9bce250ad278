"""Indexes for the housekeeping's purges (``relacja_servicekit.housekeeping``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from alembic import op

from relacja_servicekit.housekeeping import create_housekeeping_indexes, drop_housekeeping_indexes

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_housekeeping_indexes(op.get_bind())


def downgrade() -> None:
    drop_housekeeping_indexes(op.get_bind())
