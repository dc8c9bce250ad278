"""Reviews: the delivered-lines projection, tokenised review requests and the reviews.

Revision ID: 0002_reviews
Revises: 0001
Create Date: 2026-12-05

Frozen DDL, as ``relacja_engagement.tables`` defined these three tables when it was written.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_reviews"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eng_delivered_lines",
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("product_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "product_id"),
    )
    op.create_index(
        "ix_eng_delivered_lines_customer_product", "eng_delivered_lines", ["customer_id", "product_id"], unique=False
    )
    op.create_table(
        "eng_review_requests",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "token_hash",
            sa.Text(),
            nullable=False,
            comment="SHA-256 of the link's token; the token itself is not kept",
        ),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column(
            "product_ids",
            postgresql.ARRAY(sa.UUID()),
            server_default=sa.text("'{}'::uuid[]"),
            nullable=False,
            comment="The products it asks about; empty: every product of the delivered order",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True, comment="When its last product was reviewed"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash", name="uq_eng_review_requests_token"),
    )
    op.create_index("ix_eng_review_requests_customer", "eng_review_requests", ["customer_id"], unique=False)
    op.create_table(
        "eng_reviews",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("request_id", sa.UUID(), nullable=True, comment="Null once the customer is erased"),
        sa.Column("customer_id", sa.UUID(), nullable=True, comment="Null once the customer is erased"),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("product_id", sa.UUID(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("reviewer_name", sa.Text(), nullable=True, comment="The name the customer chose to show"),
        sa.Column("verified_purchase", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False, comment="pending | approved | rejected"),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("moderated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "erased_at", sa.DateTime(timezone=True), nullable=True, comment="When the reviewer's personal data went"
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "product_id", name="uq_eng_reviews_request_product"),
    )
    op.create_index("ix_eng_reviews_product", "eng_reviews", ["product_id", "status", "submitted_at", "id"])
    op.create_index("ix_eng_reviews_status", "eng_reviews", ["status", "submitted_at", "id"])
    op.create_index(
        "ix_eng_reviews_customer",
        "eng_reviews",
        ["customer_id"],
        postgresql_where=sa.text("customer_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_table("eng_reviews")
    op.drop_table("eng_review_requests")
    op.drop_table("eng_delivered_lines")
