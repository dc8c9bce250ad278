"""Evaluations: replay the history with a time split, score the recommender and the baseline.

POST /api/v1/recommendations/evaluations        run one now (Idempotency-Key); 201 with the report
GET  /api/v1/recommendations/evaluations/{id}   a stored report
GET  /api/v1/recommendations/evaluations        stored reports, newest first (cursor-paginated)
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from relacja_servicekit import SessionDep
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.types import Integer, Timestamp
from relacja_servicekit.validation import RequireJson

from ..app import evaluation
from ..settings import get_settings
from .problems import app_errors

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/recommendations/evaluations", tags=["recommendations"], dependencies=[RequireJson])

_CREATE_SCOPE = "evaluations.create"


class EvaluationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    split_at: Timestamp = Field(
        description="T: train on baskets before it, test on the purchases after it (with offset)"
    )
    k: Integer = Field(default=10, ge=1, le=50, description="Length of the suggestion lists scored")
    test_days: Integer = Field(default=90, ge=1, le=3650, description="The test period: T to T + test_days")

    @field_validator("split_at")
    @classmethod
    def _aware_and_plausible(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("needs a UTC offset (RFC 3339), e.g. 2026-01-31T00:00:00Z")
        if not 1970 <= value.astimezone(UTC).year <= 9000:
            raise ValueError("must lie between the years 1970 and 9000")
        return value.astimezone(UTC)


class Scores(BaseModel):
    hit_rate: float = Field(description="Share of test customers with a relevant product in the top k")
    ndcg: float = Field(description="Mean NDCG@k (binary relevance)")


class EvaluationOut(BaseModel):
    id: uuid.UUID
    split_at: datetime
    test_until: datetime
    k: int
    train_baskets: int = Field(description="Baskets in the training window [T − window_days, T)")
    test_customers: int = Field(description="Customers scored: profiling consent, history before T, new products after")
    recommender: Scores
    baseline: Scores = Field(description="The popularity baseline: the most bought products the customer lacks")
    beats_baseline: bool = Field(description="The recommender's NDCG@k and hit rate@k are both above the baseline's")
    parameters: dict[str, Any] = Field(description="The settings the replay used")
    duration_ms: int
    created_at: datetime


class EvaluationsOut(BaseModel):
    items: list[EvaluationOut]
    next_cursor: str | None


def evaluation_out(row: Any) -> EvaluationOut:
    return EvaluationOut(
        id=row.id,
        split_at=row.split_at,
        test_until=row.test_until,
        k=row.k,
        train_baskets=row.train_baskets,
        test_customers=row.test_customers,
        recommender=Scores(hit_rate=row.recommender_hit_rate, ndcg=row.recommender_ndcg),
        baseline=Scores(hit_rate=row.baseline_hit_rate, ndcg=row.baseline_ndcg),
        beats_baseline=row.recommender_ndcg > row.baseline_ndcg and row.recommender_hit_rate > row.baseline_hit_rate,
        parameters=row.parameters,
        duration_ms=row.duration_ms,
        created_at=row.created_at,
    )


@router.post(
    "",
    status_code=201,
    response_model=EvaluationOut,
    summary="Evaluate the recommender against the popularity baseline with a time split",
    responses=problem_responses(
        {422: "Invalid body, or a split time leaving no training or test data (invalid-split)"}
    ),
)
async def create_evaluation(
    body: EvaluationCreate, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    with app_errors():
        async with session.begin():
            if stored := await claim_request(session, _CREATE_SCOPE, idempotency_key, body):
                return stored.to_response()
            row = await evaluation.create_evaluation(session, body.split_at, body.k, body.test_days, get_settings())
            out = evaluation_out(row)
            return await created_response(
                session,
                _CREATE_SCOPE,
                idempotency_key,
                out.model_dump(mode="json"),
                location=f"{router.prefix}/{out.id}",
                version=1,
            )


@router.get(
    "/{evaluation_id}",
    response_model=EvaluationOut,
    summary="A stored evaluation report",
    responses=problem_responses({404: "No such evaluation"}),
)
async def get_evaluation(evaluation_id: uuid.UUID, session: SessionDep) -> EvaluationOut:
    with app_errors():
        return evaluation_out(await evaluation.get_evaluation(session, evaluation_id))


@router.get("", response_model=EvaluationsOut, summary="Stored evaluation reports, newest first (cursor-paginated)")
async def list_evaluations(session: SessionDep, limit: LimitParam = DEFAULT_LIMIT, cursor: CursorParam = None) -> Any:
    return await evaluation.list_evaluations(session, limit, cursor, evaluation_out)
