"""Satisfaction surveys: ``/api/v1/surveys``.

    POST /api/v1/surveys            issue an NPS survey to a customer (tickets:write at the gateway;
                                    Idempotency-Key); the token is in this answer only
    GET  /api/v1/surveys/{token}    the question (public: the token is the credential)
    POST /api/v1/surveys/{token}    answer it once (public); SurveyAnsweredV1

CSAT surveys are issued when a ticket is resolved (``POST /api/v1/tickets/{id}/resolve``).

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
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from relacja_servicekit import SessionDep
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.validation import RequireJson

from ..app import surveys as use_cases
from ..app.surveys import ScoreOutOfRange, SurveyGone, SurveyNotFound
from ..domain.surveys import SCALES, answer_problem
from ..settings import TicketsSettings
from .problems import survey_problem
from .schemas import Integer, IssuedSurvey

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/surveys", tags=["surveys"], dependencies=[RequireJson])

_CREATE_SCOPE = "tickets.surveys.create"
Token = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$", description="The survey token")]


class NpsSurveyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: uuid.UUID
    kind: Literal["nps"] = Field(
        default="nps", description="Only NPS is issued by hand; CSAT follows a resolved ticket"
    )


class SurveyQuestion(BaseModel):
    kind: Literal["csat", "nps"]
    question: str
    min_score: int
    max_score: int
    expires_at: datetime
    answerable: bool = Field(description="False once answered or expired (answering then is 410)")


class SurveyAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    score: Integer = Field(
        ge=0, le=10, description="CSAT 1–5, NPS 0–10 (outside the survey's own scale: 422 score-out-of-range)"
    )
    comment: str | None = Field(default=None, max_length=5000)


class SurveyAnswered(BaseModel):
    kind: Literal["csat", "nps"]
    score: int
    answered_at: datetime


@router.post("", status_code=201, response_model=IssuedSurvey, summary="Issue an NPS survey to a customer")
async def issue_nps(
    body: NpsSurveyCreate, request: Request, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    settings: TicketsSettings = request.app.state.settings
    now = datetime.now(UTC)
    async with session.begin():
        if stored := await claim_request(session, _CREATE_SCOPE, idempotency_key, body):
            return stored.to_response()
        issued = await use_cases.issue_survey(
            session, "nps", body.customer_id, None, now, timedelta(hours=settings.nps_valid_hours)
        )
        return await created_response(
            session, _CREATE_SCOPE, idempotency_key, IssuedSurvey.of(issued), location=issued.url_path
        )


@router.get("/{token}", response_model=SurveyQuestion, summary="The survey behind a token (no login)")
async def show_survey(token: Token, session: SessionDep) -> SurveyQuestion:
    row = await use_cases.find_survey(session, token)
    if row is None:
        raise survey_problem(SurveyNotFound(token))
    scale = SCALES[row.kind]
    reason = answer_problem(answered_at=row.answered_at, expires_at=row.expires_at, now=datetime.now(UTC))
    return SurveyQuestion(
        kind=row.kind,
        question=scale.question,
        min_score=scale.low,
        max_score=scale.high,
        expires_at=row.expires_at,
        answerable=reason is None,
    )


@router.post(
    "/{token}",
    response_model=SurveyAnswered,
    summary="Answer a survey once (no login)",
    responses=problem_responses(
        {410: "Already answered (survey-answered) or expired (survey-expired)"},
        {422: "The body fails validation, or the score is outside the survey's scale (score-out-of-range)"},
    ),
)
async def answer_survey(token: Token, body: SurveyAnswer, session: SessionDep) -> JSONResponse:
    now = datetime.now(UTC)
    async with session.begin():
        try:
            answered = await use_cases.answer_survey(session, token, body.score, body.comment, now)
        except (SurveyNotFound, SurveyGone, ScoreOutOfRange) as error:
            raise survey_problem(error) from None
    return JSONResponse(jsonable_encoder(SurveyAnswered(kind=answered.kind, score=answered.score, answered_at=now)))
