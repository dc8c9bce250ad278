"""The customer master table.

Besides the fields a client sees, each row stores keys derived from them (by
``domain.customer.derived_columns`` on every write): ``email_normalized`` and ``phone``
(E.164) are the unique duplicate keys; ``name_key`` is compared with ``pg_trgm``
similarity to find likely duplicates; ``search_document`` (generated: the row's own
``search_text`` plus its company's ``company_name_key``) is what ``?q=`` searches through
a trigram GIN index.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from ._metadata import metadata

__all__ = ["customers", "PUBLIC_COLUMNS"]

customers = Table(
    "customers",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("kind", Text, nullable=False, comment="person | company; fixed at creation"),
    Column("display_name", Text, nullable=False),
    Column("given_name", Text, nullable=True),
    Column("family_name", Text, nullable=True),
    Column("legal_name", Text, nullable=True, comment="Companies only"),
    Column("email", Text, nullable=True, comment="As the customer wrote it"),
    Column("email_normalized", Text, nullable=True, comment="Lower-case, trimmed; unique: the duplicate check"),
    Column("phone", Text, nullable=True, comment="E.164; unique: the duplicate check"),
    Column("addresses", JSONB, nullable=False, server_default=text("'[]'"), comment="[{type, line1, ..., country}]"),
    Column("preferred_language", Text, nullable=True, comment="BCP 47"),
    Column("birth_date", Date, nullable=True),
    Column("lifecycle_stage", Text, nullable=False),
    Column("owner_id", Text, nullable=True, comment="The account manager"),
    Column("external_id", Text, nullable=True, comment="The id of this customer in the company's other systems"),
    Column("company_id", UUID(as_uuid=True), ForeignKey("customers.id"), nullable=True, comment="A person's company"),
    Column("tags", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column(
        "custom_attributes", JSONB, nullable=False, server_default=text("'{}'"), comment='{name: {"type", "value"}}'
    ),
    Column("version", Integer, nullable=False, server_default=text("1"), comment="Bumped on every change; the ETag"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("erased_at", DateTime(timezone=True), nullable=True, comment="Set when personal data was erased"),
    Column(
        "source",
        JSONB,
        nullable=True,
        comment="Where the record came from when not staff or import: {type: partner, partner_id, partner_name, ...}",
    ),
    Column("name_key", Text, nullable=False, server_default=text("''"), comment="Folded display name (duplicates)"),
    Column(
        "search_text", Text, nullable=False, server_default=text("''"), comment="Folded names, e-mail, phone digits"
    ),
    Column(
        "company_name_key", Text, nullable=False, server_default=text("''"), comment="The company's name_key (persons)"
    ),
    Column("search_document", Text, Computed("search_text || ' ' || company_name_key", persisted=True)),
    Index(
        "ux_customers_email_normalized",
        "email_normalized",
        unique=True,
        postgresql_where=text("email_normalized IS NOT NULL"),
    ),
    Index("ux_customers_external_id", "external_id", unique=True, postgresql_where=text("external_id IS NOT NULL")),
    Index("ux_customers_phone", "phone", unique=True, postgresql_where=text("phone IS NOT NULL")),
    Index("ix_customers_created_at_id", "created_at", "id"),
    Index("ix_customers_display_name_id", "display_name", "id"),
    Index("ix_customers_company_id", "company_id", postgresql_where=text("company_id IS NOT NULL")),
    Index("ix_customers_owner_id", "owner_id", postgresql_where=text("owner_id IS NOT NULL")),
    Index("ix_customers_tags", "tags", postgresql_using="gin"),
    Index(
        "ix_customers_search_document_trgm",
        "search_document",
        postgresql_using="gin",
        postgresql_ops={"search_document": "gin_trgm_ops"},
    ),
    Index(
        "ix_customers_name_key_trgm", "name_key", postgresql_using="gin", postgresql_ops={"name_key": "gin_trgm_ops"}
    ),
)

# What a client sees (``CustomerPublic``): everything but the derived keys.
PUBLIC_COLUMNS = [
    c
    for c in customers.c
    if c.name not in ("email_normalized", "name_key", "search_text", "company_name_key", "search_document")
]
