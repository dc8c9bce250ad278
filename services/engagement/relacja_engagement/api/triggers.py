"""``/api/v1/engagement/triggers``: triggers (journeys), the ready-made ones among them.

POST /api/v1/engagement/triggers               create (Idempotency-Key); 422 naming the field
GET  /api/v1/engagement/triggers[/{id}]        ?enabled=
PUT  /api/v1/engagement/triggers/{id}          replace (If-Match required)
POST /api/v1/engagement/triggers/{id}/enable   disabled → enabled (a template is needed)
POST /api/v1/engagement/triggers/{id}/disable  enabled → disabled
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from relacja_servicekit import SessionDep
from relacja_servicekit.etags import IfMatchHeader, RequiredIfMatchHeader, check_if_match, etag
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.validation import RequireJson

from ..app import triggers
from ..app.schemas import TriggerIn, TriggerPublic, TriggersPublic
from .problems import ILLEGAL_TRANSITION, app_errors

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/engagement/triggers", tags=["engagement triggers"], dependencies=[RequireJson])

_INVALID = {
    422: "Invalid body: an unknown event, a condition of another event, an unknown template or one of another "
    "channel, a holdout outside 0–50 (the field in errors)"
}


@router.post(
    "", status_code=201, response_model=TriggerPublic, summary="Create a trigger", responses=problem_responses(_INVALID)
)
async def create_trigger(body: TriggerIn, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None) -> Any:
    scope = "engagement.triggers.create"
    with app_errors():
        async with session.begin():
            if stored := await claim_request(session, scope, idempotency_key, body):
                return stored.to_response()
            created = await triggers.create_trigger(session, body)
            return await created_response(
                session,
                scope,
                idempotency_key,
                created.model_dump(mode="json"),
                location=f"/api/v1/engagement/triggers/{created.id}",
                version=created.version,
            )


@router.get("", response_model=TriggersPublic, summary="List triggers, newest first (cursor-paginated)")
async def list_triggers(
    session: SessionDep,
    enabled: bool | None = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Any:
    return await triggers.list_triggers(session, enabled=enabled, limit=limit, cursor=cursor)


@router.get(
    "/{trigger_id}",
    response_model=TriggerPublic,
    summary="Get a trigger",
    responses=problem_responses({404: "No such trigger"}),
)
async def get_trigger(trigger_id: uuid.UUID, session: SessionDep, response: Response) -> Any:
    with app_errors():
        trigger = await triggers.get_trigger(session, trigger_id)
    response.headers["ETag"] = etag(trigger.version)
    return trigger


@router.put(
    "/{trigger_id}",
    response_model=TriggerPublic,
    summary="Replace a trigger",
    responses=problem_responses({404: "No such trigger"}, 412, 428, _INVALID),
)
async def replace_trigger(
    trigger_id: uuid.UUID, body: TriggerIn, session: SessionDep, if_match: RequiredIfMatchHeader
) -> Any:
    with app_errors():
        async with session.begin():
            row = await triggers.trigger_row(session, trigger_id, lock=True)
            check_if_match(if_match, row.version, required=True, what="trigger")
            updated = await triggers.replace_trigger(session, trigger_id, body, row.version)
    return JSONResponse(updated.model_dump(mode="json"), headers={"ETag": etag(updated.version)})


async def _set_enabled(trigger_id: uuid.UUID, session: Any, if_match: str | None, enabled: bool) -> JSONResponse:
    with app_errors():
        async with session.begin():
            row = await triggers.trigger_row(session, trigger_id, lock=True)
            check_if_match(if_match, row.version, what="trigger")
            updated = await triggers.set_enabled(session, trigger_id, enabled)
    return JSONResponse(updated.model_dump(mode="json"), headers={"ETag": etag(updated.version)})


@router.post(
    "/{trigger_id}/enable",
    response_model=TriggerPublic,
    summary="Enable a trigger",
    responses=problem_responses({404: "No such trigger"}, {409: ILLEGAL_TRANSITION}, 412),
)
async def enable(trigger_id: uuid.UUID, session: SessionDep, if_match: IfMatchHeader = None) -> Any:
    return await _set_enabled(trigger_id, session, if_match, True)


@router.post(
    "/{trigger_id}/disable",
    response_model=TriggerPublic,
    summary="Disable a trigger",
    responses=problem_responses({404: "No such trigger"}, {409: ILLEGAL_TRANSITION}, 412),
)
async def disable(trigger_id: uuid.UUID, session: SessionDep, if_match: IfMatchHeader = None) -> Any:
    return await _set_enabled(trigger_id, session, if_match, False)
