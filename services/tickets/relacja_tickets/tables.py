"""Tables of the tickets service (SQLAlchemy Core), with the indexes the migrations create.

sla_policies    one per team (team NULL: the default), with its working-hours calendar and rules
tickets         the case; ``next_due_at`` is the earliest due instant of its running clocks
                (``FAR_FUTURE`` when none runs), the sort key of queues and the at-risk list
sla_clocks      one row per (ticket, target); the breach scheduler's index is on ``due_at``
ticket_comments the thread; public comments are seen by the customer
surveys         CSAT / NPS surveys, answered with a one-time token (only its hash is kept)
known_orders    orders seen on relacja.orders, for "complaints per 1,000 orders"
known_customers customers seen on relacja.customers (or looked up once on a miss): who may open a ticket
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    literal,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.sql.elements import ColumnElement

from .domain.lifecycle import ACTIVE_STATUSES

__all__ = [
    "FAR_FUTURE",
    "is_active",
    "metadata",
    "sla_policies",
    "tickets",
    "sla_clocks",
    "ticket_comments",
    "surveys",
    "known_orders",
    "known_customers",
]

# "No deadline": keeps next_due_at NOT NULL so keyset pagination compares plain tuples.
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)

metadata = MetaData()

# The queue and at-risk indexes are partial on this predicate (see is_active()).
_ACTIVE = text("status IN (" + ", ".join(f"'{status}'" for status in ACTIVE_STATUSES) + ")")

sla_policies = Table(
    "sla_policies",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", Text, nullable=False),
    Column("team", Text, nullable=True, comment="NULL: the default policy for tickets of teams without their own"),
    Column("time_zone", Text, nullable=False),
    Column("working_hours", JSONB, nullable=False, comment='{"monday": [["09:00","17:00"]], ...}'),
    Column("holidays", ARRAY(Date), nullable=False),
    Column("rules", JSONB, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # One policy per team, and one default (team NULL).
    Index("sla_policies_team", text("coalesce(team, '')"), unique=True),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("order_id", UUID(as_uuid=True), nullable=True),
    Column("type", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("priority", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("subject", Text, nullable=True, comment="NULL only after the customer's erasure"),
    Column("description", Text, nullable=True),
    Column("assignee_id", Text, nullable=True),
    Column("team", Text, nullable=True),
    Column("tags", ARRAY(Text), nullable=False),
    Column("policy_id", UUID(as_uuid=True), ForeignKey("sla_policies.id"), nullable=True),
    Column("next_due_at", DateTime(timezone=True), nullable=False),
    Column("sla_breached", Boolean, nullable=False),
    Column("first_response_seconds", Integer, nullable=True, comment="Business seconds to the first response"),
    Column("resolution_seconds", Integer, nullable=True, comment="Business seconds to the (last) resolution"),
    Column("version", Integer, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("first_responded_at", DateTime(timezone=True), nullable=True),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("erased_at", DateTime(timezone=True), nullable=True),
    Index("tickets_customer", "customer_id", text("opened_at DESC"), text("id DESC")),
    Index("tickets_opened", text("opened_at DESC"), text("id DESC")),
    Index("tickets_assignee_queue", "assignee_id", "next_due_at", "id", postgresql_where=_ACTIVE),
    Index("tickets_team_queue", "team", "next_due_at", "id", postgresql_where=_ACTIVE),
    Index("tickets_next_due", "next_due_at", "id", postgresql_where=_ACTIVE),
    Index("tickets_resolved", "resolved_at", postgresql_where=text("status = 'resolved'")),
)

sla_clocks = Table(
    "sla_clocks",
    metadata,
    Column("ticket_id", UUID(as_uuid=True), ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
    Column("target", Text, nullable=False),
    Column("target_seconds", Integer, nullable=False),
    Column("elapsed_seconds", Integer, nullable=False),
    Column("running_since", DateTime(timezone=True), nullable=True),
    Column("due_at", DateTime(timezone=True), nullable=True),
    Column("met_at", DateTime(timezone=True), nullable=True),
    Column("breached_at", DateTime(timezone=True), nullable=True),
    PrimaryKeyConstraint("ticket_id", "target"),
    # The breach scheduler: unflagged running clocks by due time.
    Index(
        "sla_clocks_watch",
        "due_at",
        postgresql_where=text(
            "due_at IS NOT NULL AND met_at IS NULL AND breached_at IS NULL AND running_since IS NOT NULL"
        ),
    ),
)

ticket_comments = Table(
    "ticket_comments",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("ticket_id", UUID(as_uuid=True), ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
    Column("author_type", Text, nullable=False),
    Column("author_id", Text, nullable=True),
    Column("public", Boolean, nullable=False),
    Column("body", Text, nullable=True, comment="NULL only after the customer's erasure"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("erased_at", DateTime(timezone=True), nullable=True),
    Index("ticket_comments_thread", "ticket_id", "created_at", "id"),
)

surveys = Table(
    "surveys",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("token_hash", Text, nullable=False, unique=True),
    Column("kind", Text, nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("ticket_id", UUID(as_uuid=True), ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=True),
    Column("score", Integer, nullable=True),
    Column("comment", Text, nullable=True),
    Index(
        "surveys_customer_answered",
        "customer_id",
        text("answered_at DESC"),
        postgresql_where=text("answered_at IS NOT NULL"),
    ),
    Index("surveys_customer", "customer_id"),
)

known_orders = Table(
    "known_orders",
    metadata,
    Column("order_id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("placed_at", DateTime(timezone=True), nullable=False),
    Index("known_orders_placed", "placed_at"),
    Index("known_orders_customer", "customer_id"),
)


known_customers = Table(
    "known_customers",
    metadata,
    Column("customer_id", UUID(as_uuid=True), primary_key=True),
    Column("state", Text, nullable=False, comment="active | merged | erased"),
    Column("merged_into", UUID(as_uuid=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def is_active() -> ColumnElement[bool]:
    """``status IN ('new', 'open', 'pending_customer')`` with the values inline, not as bind
    parameters: the queue and at-risk indexes are partial on exactly this predicate, and
    PostgreSQL can only match a partial index's predicate against constants."""
    return tickets.c.status.in_([literal(status, literal_execute=True) for status in ACTIVE_STATUSES])
