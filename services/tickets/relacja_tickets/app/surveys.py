"""Satisfaction surveys, in the caller's transaction: issuing one, reading one by its
token, answering it once.

    issue_survey    a one-time token (only its hash is stored); CSAT after a resolve, NPS by hand
    find_survey     the survey behind a token (None: unknown token)
    answer_survey   score range, then the one-time rule as a conditional UPDATE; SurveyAnsweredV1

Errors: ``ScoreOutOfRange`` (a score outside the kind's scale, checked before the token's
state so a bad score never uses the token up) and ``SurveyGone`` (answered or expired);
an unknown token answers None / ``SurveyNotFound``. The api/ layer maps them to problems.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import SurveyAnsweredV1

from ..domain.surveys import SCALES, Scale, SurveyKind, answer_problem, new_token, token_hash
from ..events import emit
from ..tables import surveys

__all__ = [
    "IssuedSurvey",
    "SurveyNotFound",
    "SurveyGone",
    "ScoreOutOfRange",
    "issue_survey",
    "find_survey",
    "answer_survey",
]


@dataclass(frozen=True)
class IssuedSurvey:
    """A survey just issued; ``token`` is shown only in this answer."""

    id: uuid.UUID
    kind: SurveyKind
    token: str
    url_path: str
    expires_at: datetime


class SurveyNotFound(Exception):
    """No survey has this token."""


class SurveyGone(Exception):
    """The survey was answered (``reason == "answered"``) or has expired."""

    def __init__(self, reason: str, row: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.row = row


class ScoreOutOfRange(Exception):
    def __init__(self, kind: str, scale: Scale) -> None:
        super().__init__(f"A {kind.upper()} score is from {scale.low} to {scale.high}.")
        self.kind = kind
        self.scale = scale


async def issue_survey(
    session: AsyncSession,
    kind: SurveyKind,
    customer_id: uuid.UUID,
    ticket_id: uuid.UUID | None,
    now: datetime,
    valid: timedelta,
) -> IssuedSurvey:
    token, survey_id, expires_at = new_token(), uuid.uuid4(), now + valid
    await session.execute(
        insert(surveys).values(
            id=survey_id,
            token_hash=token_hash(token),
            kind=kind,
            customer_id=customer_id,
            ticket_id=ticket_id,
            issued_at=now,
            expires_at=expires_at,
        )
    )
    return IssuedSurvey(
        id=survey_id, kind=kind, token=token, url_path=f"/api/v1/surveys/{token}", expires_at=expires_at
    )


async def find_survey(session: AsyncSession, token: str) -> Any | None:
    return (await session.execute(select(surveys).where(surveys.c.token_hash == token_hash(token)))).first()


async def answer_survey(session: AsyncSession, token: str, score: int, comment: str | None, now: datetime) -> Any:
    """The answered survey row; ``SurveyNotFound``, ``ScoreOutOfRange`` or ``SurveyGone`` otherwise."""
    row = await find_survey(session, token)
    if row is None:
        raise SurveyNotFound(token)
    scale = SCALES[row.kind]
    if not scale.low <= score <= scale.high:
        raise ScoreOutOfRange(row.kind, scale)
    reason = answer_problem(answered_at=row.answered_at, expires_at=row.expires_at, now=now)
    if reason:
        raise SurveyGone(reason, row)
    c = surveys.c
    answered = (
        await session.execute(
            update(surveys)
            .where(c.id == row.id, c.answered_at.is_(None), c.expires_at > now)
            .values(answered_at=now, score=score, comment=comment or None)
            .returning(surveys)
        )
    ).first()
    if answered is None:  # a concurrent answer won the race
        current = (await session.execute(select(surveys).where(c.id == row.id))).one()
        raise SurveyGone(
            answer_problem(answered_at=current.answered_at, expires_at=current.expires_at, now=now) or "answered",
            current,
        )
    await emit(
        session,
        SurveyAnsweredV1(
            customer_id=answered.customer_id,
            survey_id=answered.id,
            kind=answered.kind,
            score=answered.score,
            ticket_id=answered.ticket_id,
            has_comment=answered.comment is not None,
            issued_at=answered.issued_at,
            answered_at=now,
        ),
    )
    return answered
