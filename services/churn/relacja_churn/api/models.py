"""Model runs: ``/api/v1/churn/models`` (create, list, read, the active one, activate).

Creating a run answers 202 with ``Location`` (the run is fitted in the background) and
accepts ``Idempotency-Key``. Activation is an action (``POST /{id}/activate``): only a
succeeded run can be activated (409 ``illegal-transition`` otherwise). Runs are not
versioned (a client never edits one), so the action takes no ``If-Match``.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from relacja_servicekit import SessionDep
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from relacja_servicekit.validation import RequireJson

from ..app import runs
from .problems import ILLEGAL_TRANSITION, app_errors
from .schemas import RunCreate, RunOut

router = APIRouter(prefix="/api/v1/churn/models", tags=["churn models"], dependencies=[RequireJson])

_CREATE_SCOPE = "churn.models.create"


@router.post(
    "",
    status_code=202,
    response_model=RunOut,
    summary="Start a model run (fit BG/NBD and Gamma-Gamma, score every customer)",
    description="The run is queued and fitted in the background; poll `GET /api/v1/churn/models/{id}` "
    "until its status is `succeeded` or `failed`. Parameters left out take the service's defaults "
    "(`GET /api/v1/churn/settings`).",
    responses=problem_responses(
        {
            422: "The body breaks the schema, or its windows are inconsistent (holdout_end after calibration_end, "
            "acquired_from on or before it)"
        }
    ),
)
async def create_run(
    body: RunCreate, session: SessionDep, request: Request, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    async with session.begin():
        if stored := await claim_request(session, _CREATE_SCOPE, idempotency_key, body):
            return stored.to_response()
        command = runs.NewRun(**body.model_dump())
        row = await runs.create_run(session, command, request.app.state.settings)
        return await created_response(
            session,
            _CREATE_SCOPE,
            idempotency_key,
            RunOut.from_row(row),
            status_code=202,
            location=f"/api/v1/churn/models/{row.id}",
        )


@router.get("", response_model=Page[RunOut], summary="List model runs, newest first")
async def list_runs(session: SessionDep, limit: LimitParam = DEFAULT_LIMIT, cursor: CursorParam = None) -> Page[RunOut]:
    return await runs.list_runs(session, limit=limit, cursor=cursor, to_item=RunOut.from_row)


@router.get(
    "/active",
    response_model=RunOut,
    summary="The active run",
    responses=problem_responses({404: "No run has been activated yet (no-active-run)"}),
)
async def get_active_run(session: SessionDep) -> RunOut:
    with app_errors():
        return RunOut.from_row(await runs.active_run(session))


@router.get("/{run_id}", response_model=RunOut, summary="A model run: its model card")
async def get_run(run_id: uuid.UUID, session: SessionDep) -> RunOut:
    with app_errors():
        return RunOut.from_row(await runs.get_run(session, run_id))


@router.post(
    "/{run_id}/activate",
    response_model=RunOut,
    summary="Make a succeeded run the active one (its scores become the customers' scores)",
    responses=problem_responses({409: ILLEGAL_TRANSITION}),
)
async def activate_run(run_id: uuid.UUID, session: SessionDep) -> RunOut:
    with app_errors():
        async with session.begin():
            row = await runs.activate_run(session, run_id)
    return RunOut.from_row(row)
