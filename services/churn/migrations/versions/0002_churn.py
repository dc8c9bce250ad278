"""Churn projection, model runs and scores, and the idempotency keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "churn_customers",
        sa.Column("customer_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("risk_tier", sa.Text, nullable=True),
        sa.Column("risk_tier_run_id", UUID(as_uuid=True), nullable=True),
    )
    op.create_table(
        "churn_aliases",
        sa.Column("merged_customer_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
    )
    op.create_table(
        "churn_orders",
        sa.Column("order_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("placed_on", sa.Date, nullable=False),
        sa.Column("net_amount", sa.Numeric(18, 4), nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("snapshot_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_churn_orders_customer", "churn_orders", ["customer_id", "placed_on"])
    op.create_index("ix_churn_orders_placed_on", "churn_orders", ["placed_on"])
    op.create_table(
        "churn_surveys",
        sa.Column("survey_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_churn_surveys_answered_at", "churn_surveys", ["answered_at"])
    op.create_index("ix_churn_surveys_customer", "churn_surveys", ["customer_id"])
    op.create_table(
        "churn_model_runs",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("trigger", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("activate", sa.Boolean, nullable=False),
        sa.Column("calibration_end", sa.Date, nullable=False),
        sa.Column("acquired_from", sa.Date, nullable=True),
        sa.Column("holdout_end", sa.Date, nullable=True),
        sa.Column("time_unit", sa.Text, nullable=False),
        sa.Column("horizon_months", sa.Integer, nullable=False),
        sa.Column("monthly_discount_rate", sa.Float, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("bgnbd", JSONB, nullable=True),
        sa.Column("gamma_gamma", JSONB, nullable=True),
        sa.Column("fit", JSONB, nullable=True),
        sa.Column("timings", JSONB, nullable=True),
        sa.Column("holdout", JSONB, nullable=True),
        sa.Column("band_cutoffs", JSONB, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_churn_model_runs_created", "churn_model_runs", ["created_at", "id"])
    # At most one active run.
    op.create_index(
        "ux_churn_model_runs_active", "churn_model_runs", ["active"], unique=True, postgresql_where=sa.text("active")
    )
    op.create_table(
        "churn_scores",
        sa.Column("run_id", UUID(as_uuid=True), nullable=False),
        sa.Column("customer_id", UUID(as_uuid=True), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("x", sa.Integer, nullable=False),
        sa.Column("t_x", sa.Float, nullable=False),
        sa.Column("t_cal", sa.Float, nullable=False),
        sa.Column("monetary", sa.Float, nullable=False),
        sa.Column("first_purchase_on", sa.Date, nullable=False),
        sa.Column("last_purchase_on", sa.Date, nullable=False),
        sa.Column("p_alive", sa.Float, nullable=False),
        sa.Column("expected_purchases", sa.Float, nullable=False),
        sa.Column("expected_spend", sa.Float, nullable=False),
        sa.Column("clv", sa.Float, nullable=False),
        sa.Column("risk_tier", sa.Text, nullable=False),
        sa.Column("value_band", sa.Text, nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "customer_id"),
    )
    op.create_index("ix_churn_scores_tier", "churn_scores", ["run_id", "risk_tier", "customer_id"])
    op.create_index("ix_churn_scores_band", "churn_scores", ["run_id", "value_band", "customer_id"])
    op.create_index("ix_churn_scores_customer", "churn_scores", ["customer_id"])
    # The Idempotency-Key table as relacja_servicekit.idempotency defined it at this
    # revision (its created_at index came later: the retention-index revision).
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("response_body", JSONB, nullable=True),
        sa.Column("response_headers", JSONB, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("scope", "key"),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    for table in (
        "churn_scores",
        "churn_model_runs",
        "churn_surveys",
        "churn_orders",
        "churn_aliases",
        "churn_customers",
    ):
        op.drop_table(table)
