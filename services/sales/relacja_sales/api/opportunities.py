"""Opportunities: ``/api/v1/sales/opportunities``.

    POST  /api/v1/sales/opportunities                  create (Idempotency-Key); OpportunityCreatedV1
    GET   /api/v1/sales/opportunities                  newest first, only what the caller may see
    GET   /api/v1/sales/opportunities/board            open deals of a pipeline by stage
    GET   /api/v1/sales/opportunities/{id}             with ETag (404 when the caller may not see it)
    PATCH /api/v1/sales/opportunities/{id}             change fields (If-Match required)
    POST  /api/v1/sales/opportunities/{id}/move        to another open stage (If-Match optional)
    POST  /api/v1/sales/opportunities/{id}/win         close as won (optionally: a draft order)
    POST  /api/v1/sales/opportunities/{id}/lose        close as lost with a managed loss reason
    GET   /api/v1/sales/opportunities/{id}/stage-history
    GET   /api/v1/sales/opportunities/{id}/score    lead scoring: the win probability (naive Bayes)

Fixed paths (board) come before ``/{id}``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from relacja_contracts.events.sales import OpportunityStatus
from relacja_servicekit import SessionDep
from relacja_servicekit.customer_directory import CustomerDirectoryDep
from relacja_servicekit.etags import IfMatchHeader, RequiredIfMatchHeader
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.validation import RequireJson

from ..app import opportunities as use_cases
from ..app import scoring
from ..app.opportunities import OpportunityFilters
from .caller import CallerDep
from .schemas import (
    BoardColumnPublic,
    BoardPublic,
    CurrencyAmount,
    LoseBody,
    MoveBody,
    OpportunitiesPublic,
    OpportunityCreate,
    OpportunityPublic,
    OpportunityScorePublic,
    OpportunityUpdate,
    ScoreEvidence,
    StageChangePublic,
    StageHistoryPublic,
    WinBody,
)
from .views import answer, opportunity_public, stage_public

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/sales/opportunities", tags=["opportunities"], dependencies=[RequireJson])

IdentQuery = Annotated[str | None, Query(min_length=1, max_length=200)]
_CONFLICT = "The deal is closed (illegal-transition: `current_status` and `allowed_actions` name them)"


def _answer(row: object) -> JSONResponse:
    return answer(opportunity_public(row), row.version)  # type: ignore[attr-defined]


@router.post(
    "",
    status_code=201,
    response_model=OpportunityPublic,
    summary="Create an opportunity",
    description="The stage must be an open, active stage of the pipeline; the owner the caller or someone the caller "
    "may see; the expected close date not before today.",
    responses=problem_responses(
        {
            422: "Invalid body; unknown pipeline or stage, a stage of another pipeline or a closed stage; unknown, "
            "erased or merged customer"
        },
        {503: "The customers service could not be asked about a customer not projected yet (Retry-After)"},
    ),
)
async def create_opportunity(
    body: OpportunityCreate,
    session: SessionDep,
    directory: CustomerDirectoryDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    now = datetime.now(UTC)
    scope = f"sales.opportunities.create:{caller.id}"
    async with session.begin():
        if stored := await claim_request(session, scope, idempotency_key, body):
            return stored.to_response()
        row = await use_cases.create_opportunity(session, directory, caller, body.model_dump(exclude_unset=True), now)
        return await created_response(
            session,
            scope,
            idempotency_key,
            opportunity_public(row),
            location=f"/api/v1/sales/opportunities/{row.id}",
            version=row.version,
        )


@router.get("", response_model=OpportunitiesPublic, summary="Opportunities the caller may see, newest first")
async def list_opportunities(
    session: SessionDep,
    caller: CallerDep,
    status: Annotated[list[OpportunityStatus] | None, Query(description="Repeat for several")] = None,
    pipeline_id: uuid.UUID | None = None,
    stage_id: uuid.UUID | None = None,
    owner_id: IdentQuery = None,
    team: IdentQuery = None,
    customer_id: uuid.UUID | None = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> OpportunitiesPublic:
    filters = OpportunityFilters(status, pipeline_id, stage_id, owner_id, team, customer_id)
    page = await use_cases.list_opportunities(session, caller, filters, limit=limit, cursor=cursor)
    return OpportunitiesPublic(items=[opportunity_public(r) for r in page.items], next_cursor=page.next_cursor)


@router.get(
    "/board",
    response_model=BoardPublic,
    summary="The pipeline board: the caller's visible open deals by stage",
    description="Per open stage: the number of deals, their amount per currency and the `per_stage` largest deals.",
    responses=problem_responses({404: "No such pipeline"}),
)
async def board(
    session: SessionDep,
    caller: CallerDep,
    pipeline_id: uuid.UUID,
    owner_id: IdentQuery = None,
    per_stage: Annotated[int, Query(ge=0, le=100)] = 20,
) -> BoardPublic:
    columns = await use_cases.board(session, caller, pipeline_id, per_stage=per_stage, owner_id=owner_id)
    return BoardPublic(
        pipeline_id=pipeline_id,
        columns=[
            BoardColumnPublic(
                stage=stage_public(column.stage),
                count=column.count,
                amounts=[CurrencyAmount(currency=c, amount=a) for c, a in sorted(column.amounts.items())],
                items=[opportunity_public(r) for r in column.items],
            )
            for column in columns
        ],
    )


@router.get("/{opportunity_id}", response_model=OpportunityPublic, summary="One opportunity")
async def get_opportunity(opportunity_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> JSONResponse:
    return _answer(await use_cases.get_opportunity(session, caller, opportunity_id))


@router.patch(
    "/{opportunity_id}",
    response_model=OpportunityPublic,
    summary="Change an open opportunity's fields (If-Match)",
    description="The stage changes only by the actions (`move`, `win`, `lose`).",
    responses=problem_responses({409: _CONFLICT}, {422: "Invalid body; unknown contact customer"}),
)
async def update_opportunity(
    opportunity_id: uuid.UUID,
    body: OpportunityUpdate,
    session: SessionDep,
    directory: CustomerDirectoryDep,
    caller: CallerDep,
    if_match: RequiredIfMatchHeader,
) -> JSONResponse:
    now = datetime.now(UTC)
    async with session.begin():
        row = await use_cases.update_opportunity(
            session, directory, caller, opportunity_id, body.model_dump(exclude_unset=True), if_match=if_match, now=now
        )
        return _answer(row)


@router.post(
    "/{opportunity_id}/move",
    response_model=OpportunityPublic,
    summary="Move to another open stage of the pipeline",
    description="If-Match is optional: when sent it must match the current ETag (412 otherwise). A closed stage is "
    "reached by `win` / `lose` (422 closed-stage).",
    responses=problem_responses(
        {409: _CONFLICT}, {422: "Unknown stage, a stage of another pipeline, retired or closed"}
    ),
)
async def move(
    opportunity_id: uuid.UUID, body: MoveBody, session: SessionDep, caller: CallerDep, if_match: IfMatchHeader = None
) -> JSONResponse:
    now = datetime.now(UTC)
    async with session.begin():
        return _answer(await use_cases.move(session, caller, opportunity_id, body.stage_id, if_match=if_match, now=now))


@router.post(
    "/{opportunity_id}/win",
    response_model=OpportunityPublic,
    summary="Close as won",
    description="`draft_order: true` asks the orders service (through OpportunityWonV1) for a draft order with the "
    "line items. A loss reason is refused (422 naming body.loss_reason).",
    responses=problem_responses({409: _CONFLICT}),
)
async def win(
    opportunity_id: uuid.UUID,
    session: SessionDep,
    caller: CallerDep,
    body: WinBody | None = None,
    if_match: IfMatchHeader = None,
) -> JSONResponse:
    now = datetime.now(UTC)
    draft = body.draft_order if body is not None else False
    async with session.begin():
        return _answer(
            await use_cases.win(session, caller, opportunity_id, draft_order=draft, if_match=if_match, now=now)
        )


@router.post(
    "/{opportunity_id}/lose",
    response_model=OpportunityPublic,
    summary="Close as lost, with a managed loss reason",
    responses=problem_responses({409: _CONFLICT}, {422: "Missing or unknown loss reason; not a lost stage"}),
)
async def lose(
    opportunity_id: uuid.UUID, body: LoseBody, session: SessionDep, caller: CallerDep, if_match: IfMatchHeader = None
) -> JSONResponse:
    now = datetime.now(UTC)
    async with session.begin():
        row = await use_cases.lose(
            session,
            caller,
            opportunity_id,
            loss_reason=body.loss_reason,
            stage_id=body.stage_id,
            if_match=if_match,
            now=now,
        )
        return _answer(row)


@router.get(
    "/{opportunity_id}/stage-history",
    response_model=StageHistoryPublic,
    summary="Every stage the deal entered (from, to, who, when), oldest first",
)
async def stage_history(opportunity_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> StageHistoryPublic:
    rows = await use_cases.stage_history_of(session, caller, opportunity_id)
    return StageHistoryPublic(
        opportunity_id=opportunity_id,
        items=[
            StageChangePublic(
                **{k: v for k, v in row._mapping.items() if k in StageChangePublic.model_fields},
                seconds_in_stage=round((row.left_at - row.changed_at).total_seconds()) if row.left_at else None,
            )
            for row in rows
        ],
    )


@router.get(
    "/{opportunity_id}/score",
    response_model=OpportunityScorePublic,
    summary="Lead scoring: the deal's win probability from its team's won and lost deals",
    description="Naive Bayes over source, pipeline and currency with +0.1 smoothing; values seen in fewer than "
    "50 closed deals are left out; clamped to 1–99.99 %. See docs/sales.md.",
)
async def score(opportunity_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> OpportunityScorePublic:
    result = await scoring.score(session, caller, opportunity_id)
    return OpportunityScorePublic(
        opportunity_id=result.opportunity_id,
        team=result.team,
        win_probability_percent=result.probability,
        evidence=[
            ScoreEvidence(field=e.field, value=e.value, won=e.won, lost=e.lost, used=e.used) for e in result.evidence
        ],
    )
