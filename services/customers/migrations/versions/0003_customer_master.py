"""The customer master: names, phone, addresses, language, birth date, owner, company,
custom attributes, erasure; search and duplicate keys with pg_trgm indexes; import jobs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

The DDL is spelled out rather than taken from ``relacja_customers.tables``.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _new_columns() -> tuple[sa.Column, ...]:
    return (
        sa.Column("given_name", sa.Text, nullable=True),
        sa.Column("family_name", sa.Text, nullable=True),
        sa.Column("legal_name", sa.Text, nullable=True),
        sa.Column("phone", sa.Text, nullable=True),
        sa.Column("addresses", JSONB, nullable=False, server_default=sa.text("'[]'")),
        sa.Column("preferred_language", sa.Text, nullable=True),
        sa.Column("birth_date", sa.Date, nullable=True),
        sa.Column("owner_id", sa.Text, nullable=True),
        sa.Column(
            "company_id",
            UUID(as_uuid=True),
            sa.ForeignKey("customers.id", name="fk_customers_company_id"),
            nullable=True,
        ),
        sa.Column("custom_attributes", JSONB, nullable=False, server_default=sa.text("'{}'")),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("name_key", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.Column("search_text", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.Column("company_name_key", sa.Text, nullable=False, server_default=sa.text("''")),
    )


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in _new_columns():
        op.add_column("customers", column)
    # Rows written before this revision: lower-cased keys (the application also folds
    # diacritics; such rows are found by their lower-cased spelling until next written).
    op.execute(
        "UPDATE customers SET name_key = lower(display_name), "
        "search_text = lower(display_name) || coalesce(' ' || email_normalized, '')"
    )
    op.add_column(
        "customers",
        sa.Column("search_document", sa.Text, sa.Computed("search_text || ' ' || company_name_key", persisted=True)),
    )
    # Search estimates LIKE '%fragment%' from this column's histogram: 1,000 bins (the
    # default 100 cannot see a fragment matching 0.1 % of the rows) let the planner choose
    # well between the trigram index and walking the sort index.
    op.execute("ALTER TABLE customers ALTER COLUMN search_document SET STATISTICS 1000")
    op.create_index(
        "ux_customers_phone", "customers", ["phone"], unique=True, postgresql_where=sa.text("phone IS NOT NULL")
    )
    op.create_index("ix_customers_display_name_id", "customers", ["display_name", "id"])
    op.create_index(
        "ix_customers_company_id", "customers", ["company_id"], postgresql_where=sa.text("company_id IS NOT NULL")
    )
    op.create_index(
        "ix_customers_owner_id", "customers", ["owner_id"], postgresql_where=sa.text("owner_id IS NOT NULL")
    )
    op.create_index("ix_customers_tags", "customers", ["tags"], postgresql_using="gin")
    op.create_index(
        "ix_customers_search_document_trgm",
        "customers",
        ["search_document"],
        postgresql_using="gin",
        postgresql_ops={"search_document": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_customers_name_key_trgm",
        "customers",
        ["name_key"],
        postgresql_using="gin",
        postgresql_ops={"name_key": "gin_trgm_ops"},
    )
    op.create_table(
        "customer_imports",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("format", sa.Text, nullable=False),
        sa.Column("rows_total", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("rows_created", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("rows_updated", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("rows_unchanged", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("rows_failed", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("errors", JSONB, nullable=False, server_default=sa.text("'[]'")),
        sa.Column("failure", sa.Text, nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_customer_imports_started_at_id", "customer_imports", ["started_at", "id"])


def downgrade() -> None:
    op.drop_table("customer_imports")
    for name in (
        "ix_customers_name_key_trgm",
        "ix_customers_search_document_trgm",
        "ix_customers_tags",
        "ix_customers_owner_id",
        "ix_customers_company_id",
        "ix_customers_display_name_id",
        "ux_customers_phone",
    ):
        op.drop_index(name, table_name="customers")
    op.drop_column("customers", "search_document")
    for column in reversed(_new_columns()):
        op.drop_column("customers", column.name)
