"""The tickets service's own errors as RFC 9457 problems (``relacja_servicekit.Problem``).

IllegalTransition (domain)      409 illegal-transition / reopen-window-passed, with
                                current_status, action and allowed_actions
InvalidPolicy (app)             422 validation-error / overlapping-sla-rules, errors per field
DuplicatePolicy (app)           409 duplicate-sla-policy
SurveyNotFound, SurveyGone,     404 not-found, 410 survey-answered / survey-expired,
ScoreOutOfRange (app)           422 score-out-of-range
"""

from __future__ import annotations

from relacja_servicekit import Problem

from ..app.sla_policies import DuplicatePolicy, InvalidPolicy
from ..app.surveys import ScoreOutOfRange, SurveyGone, SurveyNotFound
from ..domain.lifecycle import IllegalTransition

__all__ = ["illegal_transition", "invalid_policy", "duplicate_policy", "survey_problem", "invalid_parameter"]


def illegal_transition(error: IllegalTransition) -> Problem:
    title = "Reopen window passed" if error.reason == "reopen-window-passed" else "Illegal transition"
    return Problem(
        409,
        title,
        error.detail,
        type_=error.reason,
        extra={
            "current_status": error.current_status,
            "action": error.action,
            "allowed_actions": error.allowed_actions,
        },
    )


def invalid_policy(error: InvalidPolicy) -> Problem:
    return Problem(
        422,
        "Validation failed",
        str(error),
        type_="overlapping-sla-rules" if error.overlap else "validation-error",
        errors=[{"field": f"body.{field}", "message": message} for field, message in error.errors],
    )


def duplicate_policy(error: DuplicatePolicy) -> Problem:
    return Problem(409, "Policy exists", str(error), type_="duplicate-sla-policy")


def survey_problem(error: SurveyNotFound | SurveyGone | ScoreOutOfRange) -> Problem:
    if isinstance(error, SurveyNotFound):
        return Problem(404, "Survey not found", "No survey has this token.", type_="not-found")
    if isinstance(error, ScoreOutOfRange):
        scale = error.scale
        return Problem(
            422,
            "Validation failed",
            str(error),
            type_="score-out-of-range",
            errors=[{"field": "body.score", "message": f"must be between {scale.low} and {scale.high}"}],
        )
    row = error.row
    if error.reason == "answered":
        return Problem(
            410,
            "Survey already answered",
            f"This survey was answered on {row.answered_at.isoformat()}; a token works once.",
            type_="survey-answered",
        )
    return Problem(
        410, "Survey expired", f"This survey expired on {row.expires_at.isoformat()}.", type_="survey-expired"
    )


def invalid_parameter(field: str, message: str, detail: str) -> Problem:
    return Problem(
        400, "Invalid parameter", detail, type_="invalid-parameter", errors=[{"field": field, "message": message}]
    )
