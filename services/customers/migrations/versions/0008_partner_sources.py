"""Partner contributions: the source of a customer (a partner's lead) and of an interaction.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

Null for everything that exists (staff and imports); the consumer of ``relacja.sharing``
writes ``{type: partner, partner_id, partner_name, contribution_id, ...}``.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "customers",
        sa.Column(
            "source",
            postgresql.JSONB(),
            nullable=True,
            comment="Where the record came from when not staff or import: {type: partner, partner_id, partner_name, ...}",
        ),
    )
    op.add_column(
        "interactions",
        sa.Column(
            "source",
            postgresql.JSONB(),
            nullable=True,
            comment="Who reported it when not the company's staff: {type: partner, partner_id, partner_name, ...}",
        ),
    )


def downgrade() -> None:
    op.drop_column("interactions", "source")
    op.drop_column("customers", "source")
