"""Consent records: the append-only history of what a customer allowed and withdrew.

One row per recorded change; rows are never updated except by erasure (which clears the
evidence) and re-keyed by a merge. The current state of a consent — one per (purpose,
partner, partner purpose) — is the latest row by ``(occurred_at, seq)``.
"""

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, ForeignKey, Identity, Index, Table, Text, func
from sqlalchemy.dialects.postgresql import UUID

from ._metadata import metadata

__all__ = ["consent_records"]

consent_records = Table(
    "consent_records",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "seq",
        BigInteger,
        Identity(always=True),
        nullable=False,
        unique=True,
        comment="Recording order; breaks ties of occurred_at",
    ),
    Column(
        "customer_id",
        UUID(as_uuid=True),
        # Deferred: a merge may re-key and remove customers in any order within its transaction.
        ForeignKey("customers.id", deferrable=True, initially="DEFERRED"),
        nullable=False,
    ),
    Column(
        "consent_id",
        UUID(as_uuid=True),
        nullable=False,
        comment="Same for every record of one (purpose, partner, partner purpose)",
    ),
    Column("purpose", Text, nullable=False),
    Column("partner_id", Text, nullable=True),
    Column("partner_purpose", Text, nullable=True),
    Column("status", Text, nullable=False),
    Column("source", Text, nullable=False, comment="Where it was given: web-form, call-centre, import, ..."),
    Column("evidence", Text, nullable=True, comment="Proof: free text or a reference; cleared by erasure"),
    Column("recorded_by", Text, nullable=True, comment="The agent or system that recorded it"),
    Column("occurred_at", DateTime(timezone=True), nullable=False, comment="When the customer granted or withdrew it"),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("erased_at", DateTime(timezone=True), nullable=True),
    CheckConstraint(
        "purpose IN ('email_marketing', 'sms_marketing', 'phone_marketing', 'profiling', 'partner_sharing')",
        name="ck_consent_records_purpose",
    ),
    CheckConstraint("status IN ('granted', 'withdrawn')", name="ck_consent_records_status"),
    CheckConstraint(
        "(purpose = 'partner_sharing') = (partner_id IS NOT NULL AND partner_purpose IS NOT NULL)"
        " AND (partner_id IS NULL) = (partner_purpose IS NULL)",
        name="ck_consent_records_partner",
    ),
    Index(
        "ix_consent_records_current", "customer_id", "purpose", "partner_id", "partner_purpose", "occurred_at", "seq"
    ),
    Index("ix_consent_records_history", "customer_id", "occurred_at", "seq"),
)
