"""Imported orders remember the row they came from and the version that import wrote,
so that a re-import never undoes a change made in Relacja since (api/imports.py).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

Orders imported before this revision get the fingerprint of their current values and
their current version: they are taken as unchanged since their import. The fingerprint's
SQL is written out as ``relacja_orders.tables.import_fingerprint_sql('o')`` gave it at this
revision: the MD5 of the imported fields, times as epoch seconds, NULL as '-'.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_FINGERPRINT = (
    "md5("
    "coalesce(o.customer_id::text, '-') || '|' || coalesce(o.status::text, '-') || '|' || "
    "coalesce(o.channel::text, '-') || '|' || coalesce(o.currency::text, '-') || '|' || "
    "coalesce(extract(epoch FROM o.placed_at)::text, '-') || '|' || coalesce(o.gross_amount::text, '-') || '|' || "
    "coalesce(o.tax_amount::text, '-') || '|' || coalesce(o.total_amount::text, '-') || '|' || "
    "coalesce(o.returned_amount::text, '-') || '|' || coalesce(o.refunded_amount::text, '-') || '|' || "
    "coalesce(o.net_amount::text, '-') || '|' || coalesce(o.cost_amount::text, '-') || '|' || "
    "coalesce(o.margin::text, '-') || '|' || coalesce(o.lines::text, '-')"
    ")"
)


def upgrade() -> None:
    op.execute("ALTER TABLE orders ADD COLUMN import_fingerprint text, ADD COLUMN imported_version integer")
    op.execute("COMMENT ON COLUMN orders.import_fingerprint IS 'MD5 of the imported row''s values (api/imports.py)'")
    op.execute("COMMENT ON COLUMN orders.imported_version IS 'The version the last import wrote'")
    op.execute(
        f"UPDATE orders AS o SET import_fingerprint = {_FINGERPRINT}, imported_version = o.version WHERE o.imported"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE orders DROP COLUMN import_fingerprint, DROP COLUMN imported_version")
