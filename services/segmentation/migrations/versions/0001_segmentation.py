"""Customer profiles projection, and the shared messaging tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op

from relacja_messaging.migrations import create_messaging_tables, drop_messaging_tables
from relacja_segmentation.tables import customer_profiles

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    customer_profiles.create(op.get_bind())
    create_messaging_tables(op.get_bind())


def downgrade() -> None:
    drop_messaging_tables(op.get_bind())
    customer_profiles.drop(op.get_bind())
