"""Tickets, SLA policies and clocks, comments, surveys, known orders; the Idempotency-Key table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

The DDL is spelled out rather than taken from ``relacja_tickets.tables``. The partial
indexes serve the hot reads (docs/tickets.md, "Indexes"):

    tickets_assignee_queue / tickets_team_queue   an agent's or team's queue by next due time
    tickets_next_due                               the at-risk list
    sla_clocks_watch                               the breach scheduler: unflagged running clocks by due time
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ACTIVE = "status IN ('new', 'open', 'pending_customer')"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE sla_policies (
            id uuid PRIMARY KEY,
            name text NOT NULL,
            team text,
            time_zone text NOT NULL,
            working_hours jsonb NOT NULL,
            holidays date[] NOT NULL,
            rules jsonb NOT NULL,
            version integer NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )
        """
    )
    # One policy per team, and one default (team NULL).
    op.execute("CREATE UNIQUE INDEX sla_policies_team ON sla_policies (coalesce(team, ''))")
    op.execute(
        """
        CREATE TABLE tickets (
            id uuid PRIMARY KEY,
            customer_id uuid NOT NULL,
            order_id uuid,
            type text NOT NULL,
            channel text NOT NULL,
            priority text NOT NULL,
            status text NOT NULL,
            subject text,
            description text,
            assignee_id text,
            team text,
            tags text[] NOT NULL,
            policy_id uuid REFERENCES sla_policies (id),
            next_due_at timestamptz NOT NULL,
            sla_breached boolean NOT NULL,
            first_response_seconds integer,
            resolution_seconds integer,
            version integer NOT NULL,
            opened_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            first_responded_at timestamptz,
            resolved_at timestamptz,
            closed_at timestamptz,
            erased_at timestamptz
        )
        """
    )
    op.execute("CREATE INDEX tickets_customer ON tickets (customer_id, opened_at DESC, id DESC)")
    op.execute("CREATE INDEX tickets_opened ON tickets (opened_at DESC, id DESC)")
    op.execute(f"CREATE INDEX tickets_assignee_queue ON tickets (assignee_id, next_due_at, id) WHERE {_ACTIVE}")
    op.execute(f"CREATE INDEX tickets_team_queue ON tickets (team, next_due_at, id) WHERE {_ACTIVE}")
    op.execute(f"CREATE INDEX tickets_next_due ON tickets (next_due_at, id) WHERE {_ACTIVE}")
    op.execute("CREATE INDEX tickets_resolved ON tickets (resolved_at) WHERE status = 'resolved'")
    op.execute(
        """
        CREATE TABLE sla_clocks (
            ticket_id uuid NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
            target text NOT NULL,
            target_seconds integer NOT NULL,
            elapsed_seconds integer NOT NULL,
            running_since timestamptz,
            due_at timestamptz,
            met_at timestamptz,
            breached_at timestamptz,
            PRIMARY KEY (ticket_id, target)
        )
        """
    )
    op.execute(
        "CREATE INDEX sla_clocks_watch ON sla_clocks (due_at) "
        "WHERE due_at IS NOT NULL AND met_at IS NULL AND breached_at IS NULL AND running_since IS NOT NULL"
    )
    op.execute(
        """
        CREATE TABLE ticket_comments (
            id uuid PRIMARY KEY,
            ticket_id uuid NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
            author_type text NOT NULL,
            author_id text,
            public boolean NOT NULL,
            body text,
            created_at timestamptz NOT NULL,
            erased_at timestamptz
        )
        """
    )
    op.execute("CREATE INDEX ticket_comments_thread ON ticket_comments (ticket_id, created_at, id)")
    op.execute(
        """
        CREATE TABLE surveys (
            id uuid PRIMARY KEY,
            token_hash text NOT NULL UNIQUE,
            kind text NOT NULL,
            customer_id uuid NOT NULL,
            ticket_id uuid REFERENCES tickets (id) ON DELETE SET NULL,
            issued_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL,
            answered_at timestamptz,
            score integer,
            comment text
        )
        """
    )
    op.execute(
        "CREATE INDEX surveys_customer_answered ON surveys (customer_id, answered_at DESC) WHERE answered_at IS NOT NULL"
    )
    op.execute("CREATE INDEX surveys_customer ON surveys (customer_id)")
    op.execute(
        """
        CREATE TABLE known_orders (
            order_id uuid PRIMARY KEY,
            customer_id uuid NOT NULL,
            placed_at timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX known_orders_placed ON known_orders (placed_at)")
    op.execute("CREATE INDEX known_orders_customer ON known_orders (customer_id)")
    # relacja_servicekit.idempotency's table as it was at this revision (its created_at index came in 0003).
    op.execute(
        """
        CREATE TABLE idempotency_keys (
            scope text NOT NULL,
            key text NOT NULL,
            fingerprint text NOT NULL,
            status_code integer,
            response_body jsonb,
            response_headers jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (scope, key)
        )
        """
    )


def downgrade() -> None:
    for table in (
        "idempotency_keys",
        "known_orders",
        "surveys",
        "ticket_comments",
        "sla_clocks",
        "tickets",
        "sla_policies",
    ):
        op.execute(f"DROP TABLE {table}")
