"""``/api/v1/sharing/partners``: partner companies (HTTP; the use cases are in ``app/partners.py``).

POST  /api/v1/sharing/partners                 create (Idempotency-Key)
GET   /api/v1/sharing/partners                 list (?status=), cursor-paginated
GET   /api/v1/sharing/partners/{id}            one partner with its ETag
PATCH /api/v1/sharing/partners/{id}            change legal name, contacts (If-Match required)
POST  /api/v1/sharing/partners/{id}/suspend    every partner request is refused (403) until resumed
POST  /api/v1/sharing/partners/{id}/resume
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

from ..app import partners
from ..app.schemas import PartnerCreate, PartnerPatch, PartnerPublic, PartnersPublic
from ..domain.partners import PartnerAction, PartnerStatus
from .problems import ILLEGAL_TRANSITION, app_errors

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/sharing/partners", tags=["sharing: partners"], dependencies=[RequireJson])

_CREATE_SCOPE = "sharing.partners.create"


@router.post("", status_code=201, response_model=PartnerPublic, summary="Create a partner")
async def create_partner(
    body: PartnerCreate, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    async with session.begin():
        if stored := await claim_request(session, _CREATE_SCOPE, idempotency_key, body):
            return stored.to_response()
        partner = await partners.create_partner(session, body)
        return await created_response(
            session,
            _CREATE_SCOPE,
            idempotency_key,
            partner.model_dump(mode="json"),
            location=f"{router.prefix}/{partner.id}",
            version=partner.version,
        )


@router.get("", response_model=PartnersPublic, summary="List partners (cursor-paginated, oldest first)")
async def list_partners(
    session: SessionDep,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
    status: PartnerStatus | None = None,
) -> Any:
    return await partners.list_partners(session, status=status, limit=limit, cursor=cursor)


@router.get(
    "/{partner_id}",
    response_model=PartnerPublic,
    summary="Get a partner",
    responses=problem_responses({404: "No such partner"}),
)
async def get_partner(partner_id: uuid.UUID, session: SessionDep, response: Response) -> Any:
    with app_errors():
        row = await partners.get_partner(session, partner_id)
    response.headers["ETag"] = etag(row.version)
    return PartnerPublic.from_row(row)


@router.patch(
    "/{partner_id}",
    response_model=PartnerPublic,
    summary="Change a partner's legal name or contacts (If-Match required)",
    responses=problem_responses({404: "No such partner"}),
)
async def update_partner(
    partner_id: uuid.UUID, body: PartnerPatch, session: SessionDep, if_match: RequiredIfMatchHeader
) -> JSONResponse:
    with app_errors():
        async with session.begin():
            row = await partners.get_partner(session, partner_id, for_update=True)
            check_if_match(if_match, row.version, required=True, what="partner")
            partner = await partners.update_partner(session, row, body.model_dump(exclude_unset=True, mode="json"))
    return JSONResponse(partner.model_dump(mode="json"), headers={"ETag": etag(partner.version)})


async def _act(partner_id: uuid.UUID, action: PartnerAction, session: SessionDep, if_match: str) -> JSONResponse:
    with app_errors():
        async with session.begin():
            row = await partners.get_partner(session, partner_id, for_update=True)
            check_if_match(if_match, row.version, required=True, what="partner")
            partner = await partners.change_partner_status(session, row, action)
    return JSONResponse(partner.model_dump(mode="json"), headers={"ETag": etag(partner.version)})


_ACTION_RESPONSES = problem_responses({404: "No such partner"}, {409: ILLEGAL_TRANSITION})


@router.post(
    "/{partner_id}/suspend",
    response_model=PartnerPublic,
    summary="Suspend a partner: its requests are refused (403) until resumed (If-Match required)",
    responses=_ACTION_RESPONSES,
)
async def suspend_partner(partner_id: uuid.UUID, session: SessionDep, if_match: RequiredIfMatchHeader) -> JSONResponse:
    return await _act(partner_id, "suspend", session, if_match)


@router.post(
    "/{partner_id}/resume",
    response_model=PartnerPublic,
    summary="Resume a suspended partner (If-Match required)",
    responses=_ACTION_RESPONSES,
)
async def resume_partner(partner_id: uuid.UUID, session: SessionDep, if_match: RequiredIfMatchHeader) -> JSONResponse:
    return await _act(partner_id, "resume", session, if_match)
