"""``/api/v1/sharing/agreements``: data-sharing agreements (staff; use cases in ``app/agreements.py``).

POST  /api/v1/sharing/agreements                     create a draft (Idempotency-Key)
GET   /api/v1/sharing/agreements                     list (?partner_id=, status=), cursor-paginated
GET   /api/v1/sharing/agreements/{id}                one agreement with its ETag
PATCH /api/v1/sharing/agreements/{id}                change terms: a new version (If-Match required)
GET   /api/v1/sharing/agreements/{id}/versions       every version: who changed what, the terms then
POST  /api/v1/sharing/agreements/{id}/{action}       activate | suspend | resume | terminate (If-Match required)
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from relacja_servicekit import SessionDep
from relacja_servicekit.etags import RequiredIfMatchHeader, check_if_match, etag
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.validation import RequireJson

from ..app import agreements
from ..app.schemas import (
    AgreementCreate,
    AgreementPatch,
    AgreementPublic,
    AgreementsPublic,
    AgreementVersionsPublic,
)
from ..domain.agreements import AgreementAction, AgreementStatus
from .principal import ActorDep
from .problems import ILLEGAL_TRANSITION, app_errors

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/sharing/agreements", tags=["sharing: agreements"], dependencies=[RequireJson])

_CREATE_SCOPE = "sharing.agreements.create"
_INVALID_TERMS = "Unknown event type or field, a field never shared, or a window ending before it starts"


@router.post(
    "",
    status_code=201,
    response_model=AgreementPublic,
    summary="Create an agreement (a draft until activated)",
    responses=problem_responses({404: "No such partner"}, {422: _INVALID_TERMS}),
)
async def create_agreement(
    body: AgreementCreate, session: SessionDep, actor: ActorDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    with app_errors():
        async with session.begin():
            if stored := await claim_request(session, _CREATE_SCOPE, idempotency_key, body):
                return stored.to_response()
            agreement = await agreements.create_agreement(session, body, actor=actor)
            return await created_response(
                session,
                _CREATE_SCOPE,
                idempotency_key,
                agreement.model_dump(mode="json"),
                location=f"{router.prefix}/{agreement.id}",
                version=agreement.version,
            )


@router.get("", response_model=AgreementsPublic, summary="List agreements (cursor-paginated, oldest first)")
async def list_agreements(
    session: SessionDep,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
    partner_id: uuid.UUID | None = None,
    status: AgreementStatus | None = None,
) -> Any:
    return await agreements.list_agreements(session, partner_id=partner_id, status=status, limit=limit, cursor=cursor)


@router.get(
    "/{agreement_id}",
    response_model=AgreementPublic,
    summary="Get an agreement",
    responses=problem_responses({404: "No such agreement"}),
)
async def get_agreement(agreement_id: uuid.UUID, session: SessionDep, response: Response) -> Any:
    with app_errors():
        row = await agreements.get_agreement(session, agreement_id)
    response.headers["ETag"] = etag(row.version)
    return AgreementPublic.from_row(row)


@router.get(
    "/{agreement_id}/versions",
    response_model=AgreementVersionsPublic,
    summary="An agreement's versions: the audit trail of its changes",
    responses=problem_responses({404: "No such agreement"}),
)
async def list_versions(agreement_id: uuid.UUID, session: SessionDep) -> Any:
    with app_errors():
        await agreements.get_agreement(session, agreement_id)
    return AgreementVersionsPublic(items=await agreements.list_versions(session, agreement_id))


@router.patch(
    "/{agreement_id}",
    response_model=AgreementPublic,
    summary="Change an agreement's terms: a new version (If-Match required; not once terminated)",
    responses=problem_responses({404: "No such agreement"}, {422: _INVALID_TERMS}),
)
async def update_agreement(
    agreement_id: uuid.UUID, body: AgreementPatch, session: SessionDep, actor: ActorDep, if_match: RequiredIfMatchHeader
) -> JSONResponse:
    with app_errors():
        async with session.begin():
            row = await agreements.get_agreement(session, agreement_id, for_update=True)
            check_if_match(if_match, row.version, required=True, what="agreement")
            agreement = await agreements.update_agreement(
                session, row, body.model_dump(exclude_unset=True), actor=actor
            )
    return JSONResponse(agreement.model_dump(mode="json"), headers={"ETag": etag(agreement.version)})


def _action_route(action: AgreementAction, summary: str) -> None:
    @router.post(
        f"/{{agreement_id}}/{action}",
        response_model=AgreementPublic,
        summary=summary,
        responses=problem_responses({404: "No such agreement"}, {409: ILLEGAL_TRANSITION}),
        name=f"{action}_agreement",
    )
    async def act(
        agreement_id: uuid.UUID, session: SessionDep, actor: ActorDep, if_match: RequiredIfMatchHeader
    ) -> JSONResponse:
        with app_errors():
            async with session.begin():
                row = await agreements.get_agreement(session, agreement_id, for_update=True)
                check_if_match(if_match, row.version, required=True, what="agreement")
                agreement = await agreements.change_agreement_status(session, row, action, actor=actor)
        return JSONResponse(agreement.model_dump(mode="json"), headers={"ETag": etag(agreement.version)})


_action_route("activate", "Activate a draft agreement: data starts to flow (If-Match required)")
_action_route("suspend", "Suspend an active agreement: nothing flows until resumed (If-Match required)")
_action_route("resume", "Resume a suspended agreement (If-Match required)")
_action_route("terminate", "Terminate an agreement for good: its feed is gone (If-Match required)")
