"""Contact history: every call, e-mail, chat, meeting, social message, visit and note.

A meeting also has a scheduled start and end and attendees (agent ids and contact
e-mails). ``calendar_agent_ids`` (generated: the owning agent plus the attendee agents)
is what an agent's calendar searches.

``source`` is null for what the company's staff logged; an interaction a partner
contributed (``PartnerInteractionContributedV1``) names the partner there, and its id is
the contribution id.
"""

from sqlalchemy import (
    CheckConstraint,
    Column,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID  # the dialect's ARRAY has @> (contains)

from ._metadata import metadata

__all__ = ["interactions"]

interactions = Table(
    "interactions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column(
        "customer_id",
        UUID(as_uuid=True),
        # Deferred: a merge may re-key and remove customers in any order within its transaction.
        ForeignKey("customers.id", deferrable=True, initially="DEFERRED"),
        nullable=False,
    ),
    Column("channel", Text, nullable=False),
    Column("direction", Text, nullable=False),
    Column("subject", Text, nullable=True),
    Column("body", Text, nullable=True),
    Column("agent_id", Text, nullable=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("duration_seconds", Integer, nullable=True),
    Column("scheduled_start", DateTime(timezone=True), nullable=True),
    Column("scheduled_end", DateTime(timezone=True), nullable=True),
    Column("attendee_agent_ids", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("attendee_emails", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column(
        "calendar_agent_ids",
        ARRAY(Text),
        Computed("array_remove(attendee_agent_ids || agent_id, NULL)", persisted=True),
    ),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column(
        "erased_at", DateTime(timezone=True), nullable=True, comment="Set by erasure: subject, body and e-mails cleared"
    ),
    Column(
        "source",
        JSONB,
        nullable=True,
        comment="Who reported it when not the company's staff: {type: partner, partner_id, partner_name, ...}",
    ),
    CheckConstraint(
        "channel IN ('phone', 'email', 'chat', 'meeting', 'social', 'visit', 'note')", name="ck_interactions_channel"
    ),
    CheckConstraint("direction IN ('inbound', 'outbound', 'internal')", name="ck_interactions_direction"),
    CheckConstraint("duration_seconds >= 0", name="ck_interactions_duration"),
    CheckConstraint(
        "(channel = 'meeting') = (scheduled_start IS NOT NULL AND scheduled_end IS NOT NULL)"
        " AND (scheduled_start IS NULL) = (scheduled_end IS NULL)"
        " AND (scheduled_end IS NULL OR scheduled_end > scheduled_start)",
        name="ck_interactions_schedule",
    ),
    Index("ix_interactions_customer_time", "customer_id", "occurred_at", "id"),
    Index(
        "ix_interactions_calendar",
        "calendar_agent_ids",
        postgresql_using="gin",
        postgresql_where=text("scheduled_start IS NOT NULL"),
    ),
    Index("ix_interactions_scheduled", "scheduled_start", "id", postgresql_where=text("scheduled_start IS NOT NULL")),
)
