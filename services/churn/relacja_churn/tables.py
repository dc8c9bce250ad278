"""Tables of the churn service.

Projection (rebuilt from events alone; replaying the topics converges to the same rows):

    churn_customers   customers seen on relacja.customers, their erasure, their current risk tier
    churn_aliases     merged customer id → surviving id (late order events are re-keyed)
    churn_orders      one row per order: the latest snapshot's status, date, net amount, whether fully returned
    churn_surveys     CSAT / NPS answers (score and time only)

Model runs and scores:

    churn_model_runs  one row per fit: settings, status, parameters, fit statistics, timings
    churn_scores      per run and customer: the summary and the scores
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

__all__ = ["aliases", "customers", "metadata", "model_runs", "orders", "scores", "surveys"]

metadata = MetaData()

customers = Table(
    "churn_customers",
    metadata,
    Column("customer_id", UUID(as_uuid=True), primary_key=True),
    Column("registered_at", DateTime(timezone=True), nullable=True),
    Column("erased_at", DateTime(timezone=True), nullable=True),
    Column("risk_tier", Text, nullable=True),  # the last announced tier (ChurnRiskTierChangedV1)
    Column("risk_tier_run_id", UUID(as_uuid=True), nullable=True),
)

aliases = Table(
    "churn_aliases",
    metadata,
    Column("merged_customer_id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
)

orders = Table(
    "churn_orders",
    metadata,
    Column("order_id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("status", Text, nullable=False),
    Column("placed_on", Date, nullable=False),  # UTC calendar day of placed_at: same-day orders merge on it
    Column("net_amount", Numeric(18, 4), nullable=False),
    Column("currency", Text, nullable=False),
    Column("fully_returned", Boolean, nullable=False, server_default="false"),  # domain.purchases.is_fully_returned
    Column("snapshot_at", DateTime(timezone=True), nullable=False),  # occurred_at of the applied snapshot
    Index("ix_churn_orders_customer", "customer_id", "placed_on"),
    Index("ix_churn_orders_placed_on", "placed_on"),
)

surveys = Table(
    "churn_surveys",
    metadata,
    Column("survey_id", UUID(as_uuid=True), primary_key=True),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("kind", Text, nullable=False),
    Column("score", Integer, nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=False),
    Index("ix_churn_surveys_answered_at", "answered_at"),
    Index("ix_churn_surveys_customer", "customer_id"),
)

model_runs = Table(
    "churn_model_runs",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("status", Text, nullable=False),  # pending | running | succeeded | failed
    Column("trigger", Text, nullable=False),  # api | schedule
    Column("active", Boolean, nullable=False, server_default="false"),
    Column("activate", Boolean, nullable=False),
    Column("calibration_end", Date, nullable=False),
    Column("acquired_from", Date, nullable=True),
    Column("holdout_end", Date, nullable=True),
    Column("time_unit", Text, nullable=False),
    Column("horizon_months", Integer, nullable=False),
    Column("monthly_discount_rate", Float, nullable=False),
    Column("currency", Text, nullable=False),
    Column("bgnbd", JSONB, nullable=True),
    Column("gamma_gamma", JSONB, nullable=True),
    Column("fit", JSONB, nullable=True),  # log-likelihoods, counts, convergence, data window
    Column("timings", JSONB, nullable=True),
    Column("holdout", JSONB, nullable=True),
    Column("band_cutoffs", JSONB, nullable=True),
    Column("error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Index("ix_churn_model_runs_created", "created_at", "id"),
    Index("ux_churn_model_runs_active", "active", unique=True, postgresql_where="active"),
)

scores = Table(
    "churn_scores",
    metadata,
    Column("run_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("as_of", Date, nullable=False),  # the day T is measured to
    Column("x", Integer, nullable=False),
    Column("t_x", Float, nullable=False),
    Column("t_cal", Float, nullable=False),  # T
    Column("monetary", Float, nullable=False),
    Column("first_purchase_on", Date, nullable=False),
    Column("last_purchase_on", Date, nullable=False),
    Column("p_alive", Float, nullable=False),
    Column("expected_purchases", Float, nullable=False),
    Column("expected_spend", Float, nullable=False),
    Column("clv", Float, nullable=False),
    Column("risk_tier", Text, nullable=False),
    Column("value_band", Text, nullable=False),
    Column("scored_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("run_id", "customer_id"),
    Index("ix_churn_scores_tier", "run_id", "risk_tier", "customer_id"),
    Index("ix_churn_scores_band", "run_id", "value_band", "customer_id"),
    Index("ix_churn_scores_customer", "customer_id"),
)
