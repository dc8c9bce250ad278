"""The sales service's tables (SQLAlchemy Core; the DDL is in migrations/versions/).

known_customers    customers seen on relacja.customers (or looked up once on a miss)
leads              customers in lifecycle stage ``lead`` the sales team works on, and
                   their conversion (one opportunity per converted lead)
pipelines, stages  pipelines with ordered stages (probability, is_won, is_closed; retired
                   stages stay for history)
loss_reasons       the managed list of reasons a deal is lost
exchange_rates     dated rates into the reporting currency
opportunities      deals: customer, owner, team, stage, amount, line items, status
stage_history      every stage a deal entered: from, to, who, when (names of the time)
activities         calls, meetings, to-dos with assignee, due and reminder times
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

__all__ = [
    "metadata",
    "known_customers",
    "leads",
    "pipelines",
    "stages",
    "loss_reasons",
    "exchange_rates",
    "opportunities",
    "stage_history",
    "activities",
    "scoring_counts",
    "MONEY",
]

metadata = MetaData()

MONEY = Numeric(18, 2)

known_customers = Table(
    "known_customers",
    metadata,
    Column("customer_id", UUID(as_uuid=True), primary_key=True),
    Column("state", Text, nullable=False, comment="active | merged | erased"),
    Column("merged_into", UUID(as_uuid=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

leads = Table(
    "leads",
    metadata,
    Column("customer_id", UUID(as_uuid=True), primary_key=True),
    Column(
        "source", Text, nullable=False, comment="web_form | import | partner | campaign | referral | manual | other"
    ),
    Column("partner_id", Text, nullable=True),
    Column("owner_id", Text, nullable=True),
    Column("team", Text, nullable=True),
    Column("status", Text, nullable=False, comment="open | converted"),
    Column("opportunity_id", UUID(as_uuid=True), nullable=True, comment="Set by the conversion"),
    Column("converted_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Index("ix_leads_owner", "owner_id", "created_at"),
    Index("ix_leads_team", "team", "created_at"),
)

pipelines = Table(
    "pipelines",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column(
        "late_reminders_allowed",
        Boolean,
        nullable=False,
        server_default=text("false"),
        comment="May an activity of its deals remind after its due time",
    ),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

stages = Table(
    "stages",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("pipeline_id", UUID(as_uuid=True), ForeignKey("pipelines.id"), nullable=False),
    Column("position", Integer, nullable=False, comment="Order within the pipeline; retired stages keep theirs"),
    Column("name", Text, nullable=False),
    Column("probability", Integer, nullable=False),
    Column("is_won", Boolean, nullable=False),
    Column("is_closed", Boolean, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true"), comment="False: retired, kept for history"),
    Index("ix_stages_pipeline", "pipeline_id", "position"),
)

loss_reasons = Table(
    "loss_reasons",
    metadata,
    Column("code", Text, primary_key=True),
    Column("label", Text, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

exchange_rates = Table(
    "exchange_rates",
    metadata,
    Column("currency", Text, primary_key=True),
    Column("valid_from", Date, primary_key=True),
    Column("rate", Numeric(18, 8), nullable=False, comment="Units of the reporting currency per unit of currency"),
)

opportunities = Table(
    "opportunities",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("name", Text, nullable=True, comment="Cleared when the customer is erased"),
    Column("owner_id", Text, nullable=False),
    Column("team", Text, nullable=True),
    Column("pipeline_id", UUID(as_uuid=True), ForeignKey("pipelines.id"), nullable=False),
    Column("stage_id", UUID(as_uuid=True), ForeignKey("stages.id"), nullable=False),
    Column("probability", Integer, nullable=False, comment="The current stage's probability"),
    Column("status", Text, nullable=False, comment="open | won | lost"),
    Column("amount", MONEY, nullable=False),
    Column("currency", Text, nullable=False),
    Column("expected_close_date", Date, nullable=True),
    Column("source", Text, nullable=False),
    Column("contacts", JSONB, nullable=False, server_default=text("'[]'::jsonb"), comment="[{customer_id, role}]"),
    Column("line_items", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("next_step", Text, nullable=True, comment="Cleared when the customer is erased"),
    Column("loss_reason", Text, ForeignKey("loss_reasons.code"), nullable=True),
    Column("lead_customer_id", UUID(as_uuid=True), nullable=True, unique=True, comment="The converted lead"),
    Column("forecast_date", Date, nullable=True, comment="closed_at's day once closed, else expected_close_date"),
    Column("stage_entered_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Index(
        "ix_opportunities_owner_board", "owner_id", "pipeline_id", "stage_id", postgresql_where=text("status = 'open'")
    ),
    Index("ix_opportunities_team_board", "team", "pipeline_id", "stage_id", postgresql_where=text("status = 'open'")),
    # Covering: a manager's forecast for a quarter reads only this index (index-only scan).
    Index(
        "ix_opportunities_forecast",
        "forecast_date",
        postgresql_include=[
            "status",
            "currency",
            "amount",
            "probability",
            "owner_id",
            "team",
            "stage_id",
            "pipeline_id",
        ],
        postgresql_where=text("status <> 'lost'"),
    ),
    Index("ix_opportunities_owner_forecast", "owner_id", "forecast_date", postgresql_where=text("status <> 'lost'")),
    Index("ix_opportunities_team_forecast", "team", "forecast_date", postgresql_where=text("status <> 'lost'")),
    Index("ix_opportunities_created", "created_at", "id"),
    Index("ix_opportunities_customer", "customer_id"),
)

stage_history = Table(
    "stage_history",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("opportunity_id", UUID(as_uuid=True), ForeignKey("opportunities.id"), nullable=False),
    Column("pipeline_id", UUID(as_uuid=True), nullable=False),
    Column("from_stage_id", UUID(as_uuid=True), nullable=True, comment="Null for the first stage"),
    Column("from_stage_name", Text, nullable=True),
    Column("to_stage_id", UUID(as_uuid=True), nullable=False),
    Column("to_stage_name", Text, nullable=False),
    Column("probability", Integer, nullable=False, comment="The entered stage's probability at the time"),
    Column("changed_by", Text, nullable=True),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("left_at", DateTime(timezone=True), nullable=True, comment="When the deal left this stage"),
    Index("ix_stage_history_opportunity", "opportunity_id", "changed_at"),
)

activities = Table(
    "activities",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("kind", Text, nullable=False, comment="call | meeting | to_do"),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("opportunity_id", UUID(as_uuid=True), ForeignKey("opportunities.id"), nullable=True),
    Column("subject", Text, nullable=True, comment="Cleared when the customer is erased"),
    Column("assignee_id", Text, nullable=False),
    Column("team", Text, nullable=True),
    Column("status", Text, nullable=False, comment="open | done | cancelled"),
    Column("due_at", DateTime(timezone=True), nullable=True),
    Column("remind_at", DateTime(timezone=True), nullable=True),
    Column("reminded_at", DateTime(timezone=True), nullable=True, comment="When ActivityDueV1 was emitted"),
    Column("duration_seconds", Integer, nullable=True),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Index("ix_activities_reminder", "remind_at", postgresql_where=text("reminded_at IS NULL AND status = 'open'")),
    Index("ix_activities_assignee_due", "assignee_id", "due_at", "id", postgresql_where=text("status = 'open'")),
    Index("ix_activities_opportunity", "opportunity_id"),
    Index("ix_activities_customer", "customer_id", "due_at"),
    Index("ix_activities_created", "created_at", "id"),
)

scoring_counts = Table(
    "scoring_counts",
    metadata,
    Column("team", Text, primary_key=True, comment="The team of the deals; empty for deals without a team"),
    Column("field", Text, primary_key=True, comment="source | pipeline_id | currency, or total"),
    Column("value", Text, primary_key=True, comment="Empty for the total"),
    Column("won", Integer, nullable=False, server_default=text("0")),
    Column("lost", Integer, nullable=False, server_default=text("0")),
)
