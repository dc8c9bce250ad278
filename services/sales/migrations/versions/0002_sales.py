"""The sales tables, the Idempotency-Key table and the housekeeping's purge indexes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05

The DDL is spelled out (frozen): this revision builds the schema of its day whatever
``relacja_sales.tables`` says later; a model change is a new revision.
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_STATEMENTS = [
    """
CREATE TABLE exchange_rates (
    currency TEXT NOT NULL,
    valid_from DATE NOT NULL,
    rate NUMERIC(18, 8) NOT NULL,
    PRIMARY KEY (currency, valid_from)
)
    """,
    """
COMMENT ON COLUMN exchange_rates.rate IS 'Units of the reporting currency per unit of currency'
    """,
    """
CREATE TABLE known_customers (
    customer_id UUID NOT NULL,
    state TEXT NOT NULL,
    merged_into UUID,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    PRIMARY KEY (customer_id)
)
    """,
    """
COMMENT ON COLUMN known_customers.state IS 'active | merged | erased'
    """,
    """
CREATE TABLE leads (
    customer_id UUID NOT NULL,
    source TEXT NOT NULL,
    partner_id TEXT,
    owner_id TEXT,
    team TEXT,
    status TEXT NOT NULL,
    opportunity_id UUID,
    converted_at TIMESTAMP WITH TIME ZONE,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    version INTEGER DEFAULT 1 NOT NULL,
    PRIMARY KEY (customer_id)
)
    """,
    """
COMMENT ON COLUMN leads.source IS 'web_form | import | partner | campaign | referral | manual | other'
    """,
    """
COMMENT ON COLUMN leads.status IS 'open | converted'
    """,
    """
COMMENT ON COLUMN leads.opportunity_id IS 'Set by the conversion'
    """,
    """
CREATE INDEX ix_leads_owner ON leads (owner_id, created_at)
    """,
    """
CREATE INDEX ix_leads_team ON leads (team, created_at)
    """,
    """
CREATE TABLE loss_reasons (
    code TEXT NOT NULL,
    label TEXT NOT NULL,
    active BOOLEAN DEFAULT true NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    PRIMARY KEY (code)
)
    """,
    """
CREATE TABLE pipelines (
    id UUID NOT NULL,
    name TEXT NOT NULL,
    late_reminders_allowed BOOLEAN DEFAULT false NOT NULL,
    version INTEGER DEFAULT 1 NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    PRIMARY KEY (id),
    UNIQUE (name)
)
    """,
    """
COMMENT ON COLUMN pipelines.late_reminders_allowed IS 'May an activity of its deals remind after its due time'
    """,
    """
CREATE TABLE scoring_counts (
    team TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    won INTEGER DEFAULT 0 NOT NULL,
    lost INTEGER DEFAULT 0 NOT NULL,
    PRIMARY KEY (team, field, value)
)
    """,
    """
COMMENT ON COLUMN scoring_counts.team IS 'The team of the deals; empty for deals without a team'
    """,
    """
COMMENT ON COLUMN scoring_counts.field IS 'source | pipeline_id | currency, or total'
    """,
    """
COMMENT ON COLUMN scoring_counts.value IS 'Empty for the total'
    """,
    """
CREATE TABLE stages (
    id UUID NOT NULL,
    pipeline_id UUID NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    probability INTEGER NOT NULL,
    is_won BOOLEAN NOT NULL,
    is_closed BOOLEAN NOT NULL,
    active BOOLEAN DEFAULT true NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(pipeline_id) REFERENCES pipelines (id)
)
    """,
    """
COMMENT ON COLUMN stages.position IS 'Order within the pipeline; retired stages keep theirs'
    """,
    """
COMMENT ON COLUMN stages.active IS 'False: retired, kept for history'
    """,
    """
CREATE INDEX ix_stages_pipeline ON stages (pipeline_id, position)
    """,
    """
CREATE TABLE opportunities (
    id UUID NOT NULL,
    customer_id UUID NOT NULL,
    name TEXT,
    owner_id TEXT NOT NULL,
    team TEXT,
    pipeline_id UUID NOT NULL,
    stage_id UUID NOT NULL,
    probability INTEGER NOT NULL,
    status TEXT NOT NULL,
    amount NUMERIC(18, 2) NOT NULL,
    currency TEXT NOT NULL,
    expected_close_date DATE,
    source TEXT NOT NULL,
    contacts JSONB DEFAULT '[]'::jsonb NOT NULL,
    line_items JSONB DEFAULT '[]'::jsonb NOT NULL,
    next_step TEXT,
    loss_reason TEXT,
    lead_customer_id UUID,
    forecast_date DATE,
    stage_entered_at TIMESTAMP WITH TIME ZONE NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    closed_at TIMESTAMP WITH TIME ZONE,
    version INTEGER DEFAULT 1 NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(pipeline_id) REFERENCES pipelines (id),
    FOREIGN KEY(stage_id) REFERENCES stages (id),
    FOREIGN KEY(loss_reason) REFERENCES loss_reasons (code),
    UNIQUE (lead_customer_id)
)
    """,
    """
COMMENT ON COLUMN opportunities.name IS 'Cleared when the customer is erased'
    """,
    """
COMMENT ON COLUMN opportunities.probability IS 'The current stage''s probability'
    """,
    """
COMMENT ON COLUMN opportunities.status IS 'open | won | lost'
    """,
    """
COMMENT ON COLUMN opportunities.contacts IS '[{customer_id, role}]'
    """,
    """
COMMENT ON COLUMN opportunities.next_step IS 'Cleared when the customer is erased'
    """,
    """
COMMENT ON COLUMN opportunities.lead_customer_id IS 'The converted lead'
    """,
    """
COMMENT ON COLUMN opportunities.forecast_date IS 'closed_at''s day once closed, else expected_close_date'
    """,
    """
CREATE INDEX ix_opportunities_created ON opportunities (created_at, id)
    """,
    """
CREATE INDEX ix_opportunities_customer ON opportunities (customer_id)
    """,
    """
CREATE INDEX ix_opportunities_forecast ON opportunities (forecast_date) INCLUDE (status, currency, amount, probability, owner_id, team, stage_id, pipeline_id) WHERE status <> 'lost'
    """,
    """
CREATE INDEX ix_opportunities_owner_board ON opportunities (owner_id, pipeline_id, stage_id) WHERE status = 'open'
    """,
    """
CREATE INDEX ix_opportunities_owner_forecast ON opportunities (owner_id, forecast_date) WHERE status <> 'lost'
    """,
    """
CREATE INDEX ix_opportunities_team_board ON opportunities (team, pipeline_id, stage_id) WHERE status = 'open'
    """,
    """
CREATE INDEX ix_opportunities_team_forecast ON opportunities (team, forecast_date) WHERE status <> 'lost'
    """,
    """
CREATE TABLE activities (
    id UUID NOT NULL,
    kind TEXT NOT NULL,
    customer_id UUID NOT NULL,
    opportunity_id UUID,
    subject TEXT,
    assignee_id TEXT NOT NULL,
    team TEXT,
    status TEXT NOT NULL,
    due_at TIMESTAMP WITH TIME ZONE,
    remind_at TIMESTAMP WITH TIME ZONE,
    reminded_at TIMESTAMP WITH TIME ZONE,
    duration_seconds INTEGER,
    completed_at TIMESTAMP WITH TIME ZONE,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    version INTEGER DEFAULT 1 NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(opportunity_id) REFERENCES opportunities (id)
)
    """,
    """
COMMENT ON COLUMN activities.kind IS 'call | meeting | to_do'
    """,
    """
COMMENT ON COLUMN activities.subject IS 'Cleared when the customer is erased'
    """,
    """
COMMENT ON COLUMN activities.status IS 'open | done | cancelled'
    """,
    """
COMMENT ON COLUMN activities.reminded_at IS 'When ActivityDueV1 was emitted'
    """,
    """
CREATE INDEX ix_activities_assignee_due ON activities (assignee_id, due_at, id) WHERE status = 'open'
    """,
    """
CREATE INDEX ix_activities_created ON activities (created_at, id)
    """,
    """
CREATE INDEX ix_activities_customer ON activities (customer_id, due_at)
    """,
    """
CREATE INDEX ix_activities_opportunity ON activities (opportunity_id)
    """,
    """
CREATE INDEX ix_activities_reminder ON activities (remind_at) WHERE reminded_at IS NULL AND status = 'open'
    """,
    """
CREATE TABLE stage_history (
    id BIGINT GENERATED ALWAYS AS IDENTITY,
    opportunity_id UUID NOT NULL,
    pipeline_id UUID NOT NULL,
    from_stage_id UUID,
    from_stage_name TEXT,
    to_stage_id UUID NOT NULL,
    to_stage_name TEXT NOT NULL,
    probability INTEGER NOT NULL,
    changed_by TEXT,
    changed_at TIMESTAMP WITH TIME ZONE NOT NULL,
    left_at TIMESTAMP WITH TIME ZONE,
    PRIMARY KEY (id),
    FOREIGN KEY(opportunity_id) REFERENCES opportunities (id)
)
    """,
    """
COMMENT ON COLUMN stage_history.from_stage_id IS 'Null for the first stage'
    """,
    """
COMMENT ON COLUMN stage_history.probability IS 'The entered stage''s probability at the time'
    """,
    """
COMMENT ON COLUMN stage_history.left_at IS 'When the deal left this stage'
    """,
    """
CREATE INDEX ix_stage_history_opportunity ON stage_history (opportunity_id, changed_at)
    """,
    """
CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status_code INTEGER,
    response_body JSONB,
    response_headers JSONB,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    PRIMARY KEY (scope, key)
)
    """,
    """
CREATE INDEX ix_idempotency_keys_created_at ON idempotency_keys (created_at)
    """,
    """
CREATE INDEX ix_inbox_events_processed_at ON inbox_events (processed_at)
    """,
]


def upgrade() -> None:
    for statement in _STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP INDEX ix_inbox_events_processed_at")
    for table in [
        "idempotency_keys",
        "stage_history",
        "activities",
        "opportunities",
        "stages",
        "scoring_counts",
        "pipelines",
        "loss_reasons",
        "leads",
        "known_customers",
        "exchange_rates",
    ]:
        op.execute(f"DROP TABLE {table}")
