"""Column comments the table models carry and no earlier revision wrote.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05

Found by tests/integration/test_migrations.py, which compares the migrated database with
``relacja_customers.tables``: the comments document the columns for whoever reads the database
(psql, database tools), so every database gets them, not only the models.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# (table, column, comment) as the models had them at this revision.
_COMMENTS = (
    ("consent_records", "seq", "Recording order; breaks ties of occurred_at"),
    ("consent_records", "consent_id", "Same for every record of one (purpose, partner, partner purpose)"),
    ("consent_records", "source", "Where it was given: web-form, call-centre, import, ..."),
    ("consent_records", "evidence", "Proof: free text or a reference; cleared by erasure"),
    ("consent_records", "recorded_by", "The agent or system that recorded it"),
    ("consent_records", "occurred_at", "When the customer granted or withdrew it"),
    ("customer_imports", "status", "running | completed | failed"),
    ("customer_imports", "format", "csv | ndjson"),
    ("customer_imports", "errors", "[{row, field, message}], capped"),
    ("customer_imports", "failure", "Why the whole job stopped (status failed)"),
    ("customers", "kind", "person | company; fixed at creation"),
    ("customers", "legal_name", "Companies only"),
    ("customers", "email", "As the customer wrote it"),
    ("customers", "email_normalized", "Lower-case, trimmed; unique: the duplicate check"),
    ("customers", "phone", "E.164; unique: the duplicate check"),
    ("customers", "addresses", "[{type, line1, ..., country}]"),
    ("customers", "preferred_language", "BCP 47"),
    ("customers", "owner_id", "The account manager"),
    ("customers", "external_id", "The id of this customer in the company's other systems"),
    ("customers", "company_id", "A person's company"),
    ("customers", "custom_attributes", '{name: {"type", "value"}}'),
    ("customers", "version", "Bumped on every change; the ETag"),
    ("customers", "erased_at", "Set when personal data was erased"),
    ("customers", "name_key", "Folded display name (duplicates)"),
    ("customers", "search_text", "Folded names, e-mail, phone digits"),
    ("customers", "company_name_key", "The company's name_key (persons)"),
    ("important_dates", "kind", "birthday, name_day, purchase_anniversary, contract_anniversary, custom"),
    ("important_dates", "year", "Birth year, first purchase year, ...; optional"),
    ("important_dates", "version", "Bumped on every change; the ETag"),
    ("important_dates", "erased_at", "Set by erasure: no longer announced"),
    ("interactions", "erased_at", "Set by erasure: subject, body and e-mails cleared"),
)


def _literal(comment: str) -> str:
    return "'" + comment.replace("'", "''") + "'"


def upgrade() -> None:
    for table, column, comment in _COMMENTS:
        op.execute(f"COMMENT ON COLUMN {table}.{column} IS {_literal(comment)}")


def downgrade() -> None:
    for table, column, _ in _COMMENTS:
        op.execute(f"COMMENT ON COLUMN {table}.{column} IS NULL")
