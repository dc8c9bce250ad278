"""``churn_model_runs.time_unit``: the singular unit names of docs/conventions.md.

Runs stored before held the API's old plural spelling (``days``, ``weeks``, ``months``);
they now say ``day``, ``week``, ``month``, as the API answers. The code still maps a
plural it reads (``domain.models.units.canonical_unit``), so a replica of the previous
release writing one during a rolling deploy breaks nothing. Data only: no DDL.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_PLURALS = {"days": "day", "weeks": "week", "months": "month"}


def upgrade() -> None:
    for plural, singular in _PLURALS.items():
        op.execute(f"UPDATE churn_model_runs SET time_unit = '{singular}' WHERE time_unit = '{plural}'")


def downgrade() -> None:
    for plural, singular in _PLURALS.items():
        op.execute(f"UPDATE churn_model_runs SET time_unit = '{plural}' WHERE time_unit = '{singular}'")
