"""Pipeline settings: ``/api/v1/sales/pipelines``, ``/loss-reasons``, ``/exchange-rates``.

GET   /api/v1/sales/pipelines              every pipeline with its stages
POST  /api/v1/sales/pipelines              create (sales:admin at the gateway)
GET   /api/v1/sales/pipelines/{id}         with ETag
PATCH /api/v1/sales/pipelines/{id}         rename, stages (If-Match; sales:admin)
GET   /api/v1/sales/loss-reasons           the managed list
POST  /api/v1/sales/loss-reasons           add one (sales:admin)
GET   /api/v1/sales/exchange-rates         dated rates into the reporting currency
POST  /api/v1/sales/exchange-rates         set one (sales:admin)
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from relacja_servicekit import SessionDep
from relacja_servicekit.etags import RequiredIfMatchHeader
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.validation import RequireJson

from ..app import pipelines as use_cases
from .schemas import (
    ExchangeRatePublic,
    ExchangeRateSet,
    ExchangeRatesPublic,
    LossReasonCreate,
    LossReasonPublic,
    LossReasonsPublic,
    PipelineCreate,
    PipelinePublic,
    PipelinesPublic,
    PipelineUpdate,
)
from .views import answer, pipeline_public

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/sales", tags=["sales settings"], dependencies=[RequireJson])

_STAGE_RULES = (
    "Stages in order: at least one open stage, exactly one won stage (is_won, is_closed, probability 100), "
    "at least one lost stage (is_closed, probability 0), names unique."
)


@router.get("/pipelines", response_model=PipelinesPublic, summary="Pipelines with their stages")
async def list_pipelines(session: SessionDep) -> PipelinesPublic:
    return PipelinesPublic(items=[pipeline_public(state) for state in await use_cases.list_pipelines(session)])


@router.post(
    "/pipelines",
    status_code=201,
    response_model=PipelinePublic,
    summary="Create a pipeline",
    description=_STAGE_RULES,
    responses=problem_responses({409: "A pipeline with this name exists"}, {422: "Invalid body or stage list"}),
)
async def create_pipeline(
    body: PipelineCreate, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    now = datetime.now(UTC)
    async with session.begin():
        if stored := await claim_request(session, "sales.pipelines.create", idempotency_key, body):
            return stored.to_response()
        state = await use_cases.create_pipeline(session, body.model_dump(), now)
        return await created_response(
            session,
            "sales.pipelines.create",
            idempotency_key,
            pipeline_public(state),
            location=f"/api/v1/sales/pipelines/{state.row.id}",
            version=state.row.version,
        )


@router.get("/pipelines/{pipeline_id}", response_model=PipelinePublic, summary="One pipeline")
async def get_pipeline(pipeline_id: uuid.UUID, session: SessionDep) -> JSONResponse:
    state = await use_cases.get_pipeline(session, pipeline_id)
    return answer(pipeline_public(state), state.row.version)


@router.patch(
    "/pipelines/{pipeline_id}",
    response_model=PipelinePublic,
    summary="Change a pipeline (If-Match)",
    description=_STAGE_RULES + " `stages` is the whole new list: a stage with `id` is kept (its is_won / is_closed "
    "cannot change), one without is added, one left out is retired (409 stage-in-use while open deals are in it). "
    "Past stage history keeps the names and probabilities of its time.",
    responses=problem_responses(
        {409: "A pipeline with this name exists, or a retired stage has open deals (stage-in-use)"},
        {422: "Invalid body or stage list"},
    ),
)
async def update_pipeline(
    pipeline_id: uuid.UUID, body: PipelineUpdate, session: SessionDep, if_match: RequiredIfMatchHeader
) -> JSONResponse:
    now = datetime.now(UTC)
    changes = body.model_dump(exclude_unset=True)
    async with session.begin():
        state = await use_cases.update_pipeline(session, pipeline_id, changes, if_match=if_match, now=now)
        return answer(pipeline_public(state), state.row.version)


@router.get("/loss-reasons", response_model=LossReasonsPublic, summary="The managed loss reasons")
async def list_loss_reasons(session: SessionDep) -> LossReasonsPublic:
    rows = await use_cases.list_loss_reasons(session)
    return LossReasonsPublic(items=[LossReasonPublic(code=r.code, label=r.label, active=r.active) for r in rows])


@router.post(
    "/loss-reasons",
    status_code=201,
    response_model=LossReasonPublic,
    summary="Add a loss reason",
    responses=problem_responses({409: "A loss reason with this code exists"}),
)
async def create_loss_reason(body: LossReasonCreate, session: SessionDep) -> LossReasonPublic:
    async with session.begin():
        row = await use_cases.create_loss_reason(session, body.code, body.label)
    return LossReasonPublic(code=row.code, label=row.label, active=row.active)


@router.get("/exchange-rates", response_model=ExchangeRatesPublic, summary="Dated rates into the reporting currency")
async def list_rates(request: Request, session: SessionDep) -> ExchangeRatesPublic:
    rows = await use_cases.list_rates(session)
    return ExchangeRatesPublic(
        reporting_currency=request.app.state.settings.reporting_currency,
        items=[ExchangeRatePublic(currency=r.currency, valid_from=r.valid_from, rate=r.rate) for r in rows],
    )


@router.post(
    "/exchange-rates",
    response_model=ExchangeRatePublic,
    summary="Set the rate of a currency from a day on (replaces that day's rate)",
)
async def set_rate(body: ExchangeRateSet, session: SessionDep) -> ExchangeRatePublic:
    async with session.begin():
        row = await use_cases.set_rate(session, body.currency, body.valid_from, body.rate)
    return ExchangeRatePublic(currency=row.currency, valid_from=row.valid_from, rate=row.rate)
