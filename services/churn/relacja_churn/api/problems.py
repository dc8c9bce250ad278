"""The churn use cases' refusals as RFC 9457 problems, in one place for every route module.

with app_errors():         RunNotFound, ScoreNotFound  → 404 not-found
    ...call app...         NoActiveRun                 → 404 no-active-run
                           RunHasNoScores              → 409 run-not-succeeded (run_id, run_status)
                           IllegalTransition           → 409 illegal-transition (current_status,
                                                             action, allowed_actions)
                           InvalidRange                → 400 invalid-range (errors: query.from / query.to)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from relacja_servicekit import Problem

from ..app.errors import InvalidRange, NoActiveRun, RunHasNoScores, RunNotFound, ScoreNotFound
from ..domain.runs import IllegalTransition

__all__ = ["ILLEGAL_TRANSITION", "NO_ACTIVE_RUN", "RUN_NOT_SUCCEEDED", "app_errors"]

#: Route descriptions of the shared refusals.
ILLEGAL_TRANSITION = "The run has not succeeded (illegal-transition: `current_status` and `allowed_actions` name them)"
NO_ACTIVE_RUN = "No such run (not-found), or no run named and none active (no-active-run)"
RUN_NOT_SUCCEEDED = "The named run has no scores: it has not succeeded (run-not-succeeded)"


def _problem(err: Exception) -> Problem:
    if isinstance(err, RunNotFound):
        return Problem(404, "Model run not found", str(err), type_="not-found")
    if isinstance(err, ScoreNotFound):
        return Problem(404, "No score", str(err), type_="not-found")
    if isinstance(err, NoActiveRun):
        return Problem(404, "No active model run", str(err), type_="no-active-run")
    if isinstance(err, RunHasNoScores):
        return Problem(
            409,
            "Run has no scores",
            str(err),
            type_="run-not-succeeded",
            extra={"run_id": str(err.run_id), "run_status": err.status},
        )
    if isinstance(err, IllegalTransition):
        return Problem(
            409,
            "Illegal transition",
            str(err),
            type_="illegal-transition",
            extra={"current_status": err.current, "action": err.action, "allowed_actions": err.allowed_actions},
        )
    if isinstance(err, InvalidRange):
        return Problem(
            400,
            err.title,
            str(err),
            type_="invalid-range",
            errors=[{"field": f"query.{err.field}", "message": err.message}],
        )
    raise TypeError(f"no problem for {type(err).__name__}")


@contextmanager
def app_errors() -> Iterator[None]:
    """Turn the use cases' refusals raised inside the block into their problems."""
    try:
        yield
    except (RunNotFound, ScoreNotFound, NoActiveRun, RunHasNoScores, IllegalTransition, InvalidRange) as err:
        raise _problem(err) from None
