"""What the churn use cases refuse; api/problems.py maps each to its RFC 9457 problem.

    RunNotFound       no model run with the id                         → 404 not-found
    NoActiveRun       no run has been activated yet                    → 404 no-active-run
    RunHasNoScores    the named run has not succeeded (no scores)      → 409 run-not-succeeded
    ScoreNotFound     the customer has no score in the run             → 404 not-found
    InvalidRange      a KPI date range the service does not answer     → 400 invalid-range

A refused activation is ``domain.runs.IllegalTransition`` (409 illegal-transition).
"""

from __future__ import annotations

import uuid

__all__ = ["InvalidRange", "NoActiveRun", "RunHasNoScores", "RunNotFound", "ScoreNotFound"]


class RunNotFound(Exception):
    def __init__(self, run_id: uuid.UUID) -> None:
        self.run_id = run_id
        super().__init__(f"No model run with id {run_id}.")


class NoActiveRun(Exception):
    def __init__(self) -> None:
        super().__init__("No model run has been activated yet: fit one with POST /api/v1/churn/models.")


class RunHasNoScores(Exception):
    def __init__(self, run_id: uuid.UUID, status: str) -> None:
        self.run_id = run_id
        self.status = status
        super().__init__(f"Run {run_id} is {status}; only a succeeded run has scores.")


class ScoreNotFound(Exception):
    def __init__(self, customer_id: uuid.UUID, run_id: uuid.UUID) -> None:
        super().__init__(f"Customer {customer_id} has no score in run {run_id} (no purchase in its window).")


class InvalidRange(Exception):
    """``field`` is the query parameter at fault (``from`` or ``to``)."""

    def __init__(self, title: str, detail: str, field: str, message: str) -> None:
        self.title = title
        self.field = field
        self.message = message
        super().__init__(detail)
