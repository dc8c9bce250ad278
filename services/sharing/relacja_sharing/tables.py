"""Tables of the sharing service.

Partners and what they may receive (written through the staff API):

    sharing_partners            partner companies: legal name, contacts, status, pseudonym key (as HMAC pads)
    sharing_partner_keys        API keys: lookup prefix, SHA-256 of the secret, revocation, last use
    sharing_agreements          data-sharing agreements: the current version of each
    sharing_agreement_versions  every version of every agreement (the audit trail), with who and what changed

Projection (rebuilt from events alone):

    sharing_customers           customers: e-mail (an identifier some agreements use), RFM group, region, erasure
    sharing_segment_members     rule-based segment membership (for aggregate reports)
    sharing_consents            the current partner_sharing consents, one row per (customer, partner, purpose)

What was shared:

    sharing_recipients          (agreement, customer) pairs whose data went into the agreement's feed, with the
                                identifier the partner was given — the Art. 19 recipient list and the
                                partner-identifier → customer resolution
    sharing_feed_records        one row per (agreement, record): the filtered CloudEvent, at a monotonically
                                increasing position (the feed cursor)
    sharing_disclosures         the disclosure log: each record pulled from a feed or delivered by webhook
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

__all__ = [
    "agreement_versions",
    "agreements",
    "consents",
    "customers",
    "disclosures",
    "feed_records",
    "metadata",
    "partner_keys",
    "partners",
    "recipients",
    "segment_members",
]

metadata = MetaData()

partners = Table(
    "sharing_partners",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("legal_name", Text, nullable=False),
    Column("contacts", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("status", Text, nullable=False, comment="active | suspended"),
    # HMAC-SHA256 of the customer id under the partner's own random key, as the two
    # padded keys of RFC 2104, so SQL computes the pseudonym with sha256() alone.
    Column("pseudonym_ipad", LargeBinary, nullable=False, comment="RFC 2104 inner padded key (key XOR 0x36)"),
    Column("pseudonym_opad", LargeBinary, nullable=False, comment="RFC 2104 outer padded key (key XOR 0x5c)"),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

partner_keys = Table(
    "sharing_partner_keys",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("partner_id", UUID(as_uuid=True), ForeignKey("sharing_partners.id"), nullable=False, index=True),
    Column("lookup", Text, nullable=False, unique=True, comment="The public part of the key (rpk_<lookup>_...)"),
    Column("secret_hash", Text, nullable=False, comment="SHA-256 (hex) of the secret part"),
    Column("label", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
)

agreements = Table(
    "sharing_agreements",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("partner_id", UUID(as_uuid=True), ForeignKey("sharing_partners.id"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("status", Text, nullable=False, comment="draft | active | suspended | terminated"),
    Column("version", Integer, nullable=False),
    Column("purposes", JSONB, nullable=False),
    Column("direction", Text, nullable=False, comment="outbound | inbound | both"),
    Column("legal_basis", Text, nullable=False, comment="consent | contract | legitimate_interest"),
    Column("identifier", Text, nullable=False, comment="pseudonym | customer_id | email"),
    Column("allowed_fields", JSONB, nullable=False, comment='{"<event type>": ["<payload field>", ...]}'),
    Column("valid_from", DateTime(timezone=True), nullable=False),
    Column("valid_until", DateTime(timezone=True), nullable=True),
    Column("min_group_size", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_sharing_agreements_active", "id", postgresql_where=text("status = 'active'")),
)

agreement_versions = Table(
    "sharing_agreement_versions",
    metadata,
    Column("agreement_id", UUID(as_uuid=True), ForeignKey("sharing_agreements.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("change", Text, nullable=False, comment="created | updated | activate | suspend | resume | terminate"),
    Column("snapshot", JSONB, nullable=False, comment="The agreement as it was at this version"),
    Column("changed_by", Text, nullable=True, comment="The staff member (token subject) who made the change"),
    Column("changed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("agreement_id", "version"),
)

customers = Table(
    "sharing_customers",
    metadata,
    Column("customer_id", UUID(as_uuid=True), primary_key=True),
    Column("email", Text, nullable=True),
    Column("rfm_segment", Text, nullable=True),
    Column("region", Text, nullable=True),
    Column("erased_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

segment_members = Table(
    "sharing_segment_members",
    metadata,
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("segment_id", UUID(as_uuid=True), nullable=False),
    Column("segment_name", Text, nullable=False),
    PrimaryKeyConstraint("customer_id", "segment_id"),
)

consents = Table(
    "sharing_consents",
    metadata,
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("partner_id", Text, nullable=False, comment="As the consent names it (a partner's id)"),
    Column("partner_purpose", Text, nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("customer_id", "partner_id", "partner_purpose"),
)

recipients = Table(
    "sharing_recipients",
    metadata,
    Column("agreement_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    Column("identifier", Text, nullable=False, comment="The customer identifier the partner was given"),
    Column("first_disclosed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("agreement_id", "customer_id"),
    Index("ix_sharing_recipients_partner_identifier", "partner_id", "identifier"),
    Index("ix_sharing_recipients_customer", "customer_id"),
)

feed_records = Table(
    "sharing_feed_records",
    metadata,
    Column("position", BigInteger, Identity(always=True), primary_key=True),
    Column("agreement_id", UUID(as_uuid=True), nullable=False),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("identifier", Text, nullable=False, comment="Partner-visible customer identifier (the ordering key)"),
    Column("kind", Text, nullable=False, comment="record | rectification | tombstone | erasure"),
    Column("record_id", UUID(as_uuid=True), nullable=False, comment="The CloudEvent id partners see"),
    Column("event_type", Text, nullable=False, comment="The CloudEvent type partners see"),
    Column("agreement_version", Integer, nullable=False),
    Column("purposes", JSONB, nullable=False),
    Column("fields", JSONB, nullable=False, comment="Names of the payload fields disclosed"),
    Column("cloud_event", JSONB, nullable=False, comment="The record as partners receive it (structured mode)"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_sharing_feed_records_agreement_position", "agreement_id", "position"),
    Index("ix_sharing_feed_records_created_at", "created_at"),
)

disclosures = Table(
    "sharing_disclosures",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("feed_position", BigInteger, nullable=False),
    Column("channel", Text, nullable=False, comment="feed | webhook"),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("partner_id", UUID(as_uuid=True), nullable=False),
    Column("agreement_id", UUID(as_uuid=True), nullable=False),
    Column("agreement_version", Integer, nullable=False),
    Column("purposes", JSONB, nullable=False),
    Column("record_id", UUID(as_uuid=True), nullable=False),
    Column("event_type", Text, nullable=False),
    Column("fields", JSONB, nullable=False),
    Column("disclosed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # A record pulled twice, or redelivered, was disclosed once: the log keeps the first time.
    Index("uq_sharing_disclosures_position_channel", "feed_position", "channel", unique=True),
    Index("ix_sharing_disclosures_customer", "customer_id", "disclosed_at", "id"),
    Index("ix_sharing_disclosures_disclosed_at", "disclosed_at"),
)
