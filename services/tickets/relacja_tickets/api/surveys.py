"""Satisfaction surveys: ``/api/v1/surveys``.

    POST /api/v1/surveys            issue an NPS survey to a customer (tickets:write at the gateway;
                                    Idempotency-Key); the token is in this answer only
    GET  /api/v1/surveys/{token}    the question (public: the token is the credential)
    POST /api/v1/surveys/{token}    answer it once (public); SurveyAnsweredV1

CSAT surveys are issued when a ticket is resolved (``POST /api/v1/tickets/{id}/status``).

A token is one-time and expiring. Answering a survey that was already answered is
``410 survey-answered``; after ``expires_at`` it is ``410 survey-expired`` — 410 Gone
because the resource existed and is permanently no longer answerable (RFC 9110 §15.5.11),
whichever the reason; an unknown token is 404. A score outside the kind's scale
(CSAT 1–5, NPS 0–10) is ``422`` naming ``body.score``. The one-time rule holds under
concurrent answers: the answer is a conditional UPDATE (``answered_at IS NULL``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update

from relacja_contracts.events import SurveyAnsweredV1
from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.idempotency import IdempotencyKeyHeader
from relacja_servicekit.validation import RequireJson

from ..domain.surveys import SCALES, answer_problem, token_hash
from ..events import emit
from ..settings import TicketsSettings
from ..tables import surveys
from ..workflow import issue_survey
from .http import PROBLEM, claim_key, created, invalid
from .schemas import IssuedSurvey

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/surveys", tags=["surveys"], dependencies=[RequireJson])

_CREATE_SCOPE = "tickets.surveys.create"
Token = Annotated[str, Path(max_length=100, pattern=r"^[A-Za-z0-9_-]+$", description="The survey token")]


class NpsSurveyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: uuid.UUID
    kind: Literal["nps"] = Field(default="nps", description="Only NPS is issued by hand; CSAT follows a resolved ticket")


class SurveyQuestion(BaseModel):
    kind: Literal["csat", "nps"]
    question: str
    min_score: int
    max_score: int
    expires_at: datetime
    answerable: bool = Field(description="False once answered or expired (answering then is 410)")


class SurveyAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    score: int = Field(description="CSAT 1–5, NPS 0–10")
    comment: str | None = Field(default=None, max_length=5000)


class SurveyAnswered(BaseModel):
    kind: Literal["csat", "nps"]
    score: int
    answered_at: datetime


def _unknown() -> Problem:
    return Problem(404, "Survey not found", "No survey has this token.", type_="not-found")


def _gone(reason: str, row: Any) -> Problem:
    if reason == "answered":
        return Problem(410, "Survey already answered", f"This survey was answered on {row.answered_at.isoformat()}; a token works once.",
                       type_="survey-answered")
    return Problem(410, "Survey expired", f"This survey expired on {row.expires_at.isoformat()}.", type_="survey-expired")


@router.post("", status_code=201, response_model=IssuedSurvey, summary="Issue an NPS survey to a customer",
             responses={422: PROBLEM})
async def issue_nps(body: NpsSurveyCreate, request: Request, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
    settings: TicketsSettings = request.app.state.settings
    now = datetime.now(UTC)
    async with session.begin():
        stored = await claim_key(session, _CREATE_SCOPE, idempotency_key, body)
        if stored:
            return stored.to_response()
        issued = await issue_survey(session, "nps", body.customer_id, None, now, timedelta(hours=settings.nps_valid_hours))
        return await created(session, _CREATE_SCOPE, idempotency_key, issued, location=issued.url_path)


@router.get("/{token}", response_model=SurveyQuestion, summary="The survey behind a token (no login)", responses={404: PROBLEM})
async def show_survey(token: Token, session: SessionDep) -> SurveyQuestion:
    row = (await session.execute(select(surveys).where(surveys.c.token_hash == token_hash(token)))).first()
    if row is None:
        raise _unknown()
    scale = SCALES[row.kind]
    reason = answer_problem(answered_at=row.answered_at, expires_at=row.expires_at, now=datetime.now(UTC))
    return SurveyQuestion(kind=row.kind, question=scale.question, min_score=scale.low, max_score=scale.high,
                          expires_at=row.expires_at, answerable=reason is None)


@router.post("/{token}", response_model=SurveyAnswered, summary="Answer a survey once (no login)",
             responses={404: PROBLEM, 410: {"description": "Already answered or expired", **PROBLEM}, 422: {"description": "Score out of range", **PROBLEM}})
async def answer_survey(token: Token, body: SurveyAnswer, session: SessionDep) -> JSONResponse:
    now = datetime.now(UTC)
    async with session.begin():
        row = (await session.execute(select(surveys).where(surveys.c.token_hash == token_hash(token)))).first()
        if row is None:
            raise _unknown()
        scale = SCALES[row.kind]
        if not scale.low <= body.score <= scale.high:
            raise invalid(422, f"A {row.kind.upper()} score is from {scale.low} to {scale.high}.",
                          [("body.score", f"must be between {scale.low} and {scale.high}")], type_="score-out-of-range")
        reason = answer_problem(answered_at=row.answered_at, expires_at=row.expires_at, now=now)
        if reason:
            raise _gone(reason, row)
        c = surveys.c
        answered = (
            await session.execute(
                update(surveys)
                .where(c.id == row.id, c.answered_at.is_(None), c.expires_at > now)
                .values(answered_at=now, score=body.score, comment=body.comment or None)
                .returning(surveys)
            )
        ).first()
        if answered is None:  # a concurrent answer won the race
            current = (await session.execute(select(surveys).where(c.id == row.id))).one()
            raise _gone(answer_problem(answered_at=current.answered_at, expires_at=current.expires_at, now=now) or "answered", current)
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
    return JSONResponse(jsonable_encoder(SurveyAnswered(kind=answered.kind, score=answered.score, answered_at=now)))

