"""``/api/v1/loyalty/programmes``: programmes and their KPIs.

POST /api/v1/loyalty/programmes             create (Idempotency-Key)
GET  /api/v1/loyalty/programmes             list, oldest first (cursor-paginated)
GET  /api/v1/loyalty/programmes/{id}        one programme with its ETag
GET  /api/v1/loyalty/programmes/{id}/kpis   members, points issued / redeemed / expired,
                                            redemption rate, liability, members per tier
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from relacja_servicekit import SessionDep
from relacja_servicekit.etags import etag
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.validation import RequireJson

from ..app import kpis, programmes
from ..app.schemas import ProgrammeCreate, ProgrammeKpis, ProgrammePublic, ProgrammesPublic
from .problems import app_errors

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/loyalty/programmes", tags=["loyalty"], dependencies=[RequireJson])

_SCOPE = "loyalty.programmes.create"


@router.post(
    "",
    status_code=201,
    response_model=ProgrammePublic,
    summary="Create a loyalty programme",
    responses=problem_responses({422: "Invalid body (a field named in errors); an Idempotency-Key reused"}),
)
async def create_programme(
    body: ProgrammeCreate, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    with app_errors():
        async with session.begin():
            if stored := await claim_request(session, _SCOPE, idempotency_key, body):
                return stored.to_response()
            created = await programmes.create_programme(session, body)
            return await created_response(
                session,
                _SCOPE,
                idempotency_key,
                created.model_dump(mode="json"),
                location=f"{router.prefix}/{created.id}",
                version=created.version,
            )


@router.get("", response_model=ProgrammesPublic, summary="List programmes (cursor-paginated)")
async def list_programmes(session: SessionDep, limit: LimitParam = DEFAULT_LIMIT, cursor: CursorParam = None) -> Any:
    return await programmes.list_programmes(session, limit=limit, cursor=cursor)


@router.get(
    "/{programme_id}",
    response_model=ProgrammePublic,
    summary="Get a programme",
    responses=problem_responses({404: "No such programme"}),
)
async def get_programme(programme_id: uuid.UUID, session: SessionDep, response: Response) -> Any:
    with app_errors():
        found = await programmes.get_programme(session, programme_id)
    response.headers["ETag"] = etag(found.version)
    return found


@router.get(
    "/{programme_id}/kpis",
    response_model=ProgrammeKpis,
    summary="Programme KPIs",
    responses=problem_responses({404: "No such programme"}),
)
async def programme_kpis(programme_id: uuid.UUID, session: SessionDep) -> Any:
    with app_errors():
        return await kpis.programme_kpis(session, programme_id)
