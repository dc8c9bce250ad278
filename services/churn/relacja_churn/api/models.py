"""Model runs: ``/api/v1/churn/models``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select, update

from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim, fingerprint, remember
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page, paginate

from ..tables import model_runs
from ..tiers_events import announce_run_tiers
from .schemas import PROBLEM, RunCreate, RunOut

router = APIRouter(prefix="/api/v1/churn/models", tags=["churn models"])

_CREATE_SCOPE = "churn.models.create"


async def _get_run(session, run_id: uuid.UUID):
    row = (await session.execute(select(model_runs).where(model_runs.c.id == run_id))).first()
    if row is None:
        raise Problem(404, "Model run not found", f"No model run with id {run_id}.", type_="not-found")
    return row


@router.post(
    "",
    status_code=202,
    response_model=RunOut,
    summary="Start a model run (fit BG/NBD and Gamma-Gamma, score every customer)",
    description="The run is queued and fitted in the background; poll `GET /api/v1/churn/models/{id}` "
    "until its status is `succeeded` or `failed`.",
    responses={422: {"description": "Invalid body", **PROBLEM}},
)
async def create_run(
    body: RunCreate, session: SessionDep, request: Request, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    settings = request.app.state.settings
    async with session.begin():
        if idempotency_key:
            stored = await claim(
                session, scope=_CREATE_SCOPE, key=idempotency_key, fingerprint=fingerprint(body.model_dump(mode="json"))
            )
            if stored:
                return stored.to_response()
        run_id = uuid.uuid4()
        row = (
            await session.execute(
                model_runs.insert()
                .values(
                    id=run_id, status="pending", trigger="api",
                    activate=body.activate if body.activate is not None else body.holdout_end is None,
                    calibration_end=body.calibration_end, acquired_from=body.acquired_from,
                    holdout_end=body.holdout_end, time_unit=body.time_unit, horizon_months=body.horizon_months,
                    monthly_discount_rate=body.monthly_discount_rate, currency=settings.currency,
                    created_at=datetime.now(UTC),
                )
                .returning(*model_runs.c)
            )
        ).one()
        payload = RunOut.from_row(row).model_dump(mode="json")
        headers = {"Location": f"/api/v1/churn/models/{run_id}"}
        if idempotency_key:
            await remember(session, _CREATE_SCOPE, idempotency_key, status_code=202, body=payload, headers=headers)
    return JSONResponse(payload, status_code=202, headers=headers)


@router.get("", response_model=Page[RunOut], summary="List model runs, newest first")
async def list_runs(session: SessionDep, limit: LimitParam = DEFAULT_LIMIT, cursor: CursorParam = None) -> Page[RunOut]:
    return await paginate(
        session, select(model_runs), keys=[model_runs.c.created_at, model_runs.c.id],
        limit=limit, cursor=cursor, descending=True, to_item=RunOut.from_row,
    )


@router.get(
    "/active", response_model=RunOut, summary="The active run", responses={404: {"description": "No active run", **PROBLEM}}
)
async def get_active_run(session: SessionDep) -> RunOut:
    row = (await session.execute(select(model_runs).where(model_runs.c.active))).first()
    if row is None:
        raise Problem(404, "No active model run", "No model run has been activated yet.", type_="not-found")
    return RunOut.from_row(row)


@router.get(
    "/{run_id}", response_model=RunOut, summary="A model run: its model card",
    responses={404: {"description": "No such run", **PROBLEM}},
)
async def get_run(run_id: uuid.UUID, session: SessionDep) -> RunOut:
    return RunOut.from_row(await _get_run(session, run_id))


@router.post(
    "/{run_id}/activate",
    response_model=RunOut,
    summary="Make a succeeded run the active one (its scores become the customers' scores)",
    responses={404: {"description": "No such run", **PROBLEM}, 409: {"description": "The run has not succeeded", **PROBLEM}},
)
async def activate_run(run_id: uuid.UUID, session: SessionDep) -> RunOut:
    async with session.begin():
        row = await _get_run(session, run_id)
        if row.status != "succeeded":
            raise Problem(409, "Run not succeeded", f"Run {run_id} is {row.status}; only a succeeded run can be active.", type_="run-not-succeeded")
        if not row.active:
            await session.execute(update(model_runs).where(model_runs.c.active).values(active=False))
            await session.execute(update(model_runs).where(model_runs.c.id == run_id).values(active=True))
            await announce_run_tiers(session, run_id)
        row = await _get_run(session, run_id)
    return RunOut.from_row(row)
