"""Leads: ``/api/v1/sales/leads``.

GET  /api/v1/sales/leads                          leads the caller may see, newest first
GET  /api/v1/sales/leads/{customer_id}            one lead
POST /api/v1/sales/leads/{customer_id}/assign     give it an owner and team
POST /api/v1/sales/leads/{customer_id}/convert    idempotent: 201 with the new opportunity the
                                                  first time, 200 with the same ids after
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from relacja_servicekit import SessionDep
from relacja_servicekit.customer_directory import CustomerDirectoryDep
from relacja_servicekit.etags import IfMatchHeader
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.validation import RequireJson

from ..app import leads as use_cases
from .caller import CallerDep
from .schemas import ConversionPublic, LeadAssign, LeadConvert, LeadPublic, LeadsPublic
from .views import answer, lead_public, opportunity_public

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/sales/leads", tags=["leads"], dependencies=[RequireJson])


@router.get("", response_model=LeadsPublic, summary="Leads the caller may see, newest first")
async def list_leads(
    session: SessionDep,
    caller: CallerDep,
    status: Annotated[Literal["open", "converted"] | None, Query()] = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> LeadsPublic:
    page = await use_cases.list_leads(session, caller, status=status, limit=limit, cursor=cursor)
    return LeadsPublic(items=[lead_public(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/{customer_id}", response_model=LeadPublic, summary="One lead")
async def get_lead(customer_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> JSONResponse:
    row = await use_cases.get_lead(session, caller, customer_id)
    return answer(lead_public(row), row.version)


@router.post(
    "/{customer_id}/assign",
    response_model=LeadPublic,
    summary="Give a lead an owner (and team)",
    description="If-Match is optional: when sent it must match the current ETag.",
    responses=problem_responses({422: "An owner outside what the caller may see"}),
)
async def assign(
    customer_id: uuid.UUID, body: LeadAssign, session: SessionDep, caller: CallerDep, if_match: IfMatchHeader = None
) -> JSONResponse:
    async with session.begin():
        row = await use_cases.assign(session, caller, customer_id, body.owner_id, body.team, if_match=if_match)
        return answer(lead_public(row), row.version)


@router.post(
    "/{customer_id}/convert",
    status_code=201,
    response_model=ConversionPublic,
    summary="Convert a lead: the customer becomes a prospect, with an opportunity",
    description="Idempotent: the first call creates the opportunity (201) and emits LeadConvertedV1, which the "
    "customers service applies (lifecycle stage `prospect`); a repeated call returns the same ids (200) whatever "
    "its body.",
    responses={
        200: {"description": "Converted before: the same lead and opportunity", "model": ConversionPublic},
        **problem_responses(
            {422: "Invalid body; unknown pipeline or stage; erased or merged customer"},
            {503: "The customers service could not be asked about the customer (Retry-After)"},
        ),
    },
)
async def convert(
    customer_id: uuid.UUID,
    body: LeadConvert,
    session: SessionDep,
    directory: CustomerDirectoryDep,
    caller: CallerDep,
) -> JSONResponse:
    now = datetime.now(UTC)
    async with session.begin():
        lead, deal, created = await use_cases.convert(
            session, directory, caller, customer_id, body.model_dump(exclude_unset=True), now
        )
        result = ConversionPublic(
            customer_id=customer_id,
            opportunity_id=deal.id,
            lead=lead_public(lead),
            opportunity=opportunity_public(deal),
        )
    return JSONResponse(
        jsonable_encoder(result),
        status_code=201 if created else 200,
        headers={"Location": f"/api/v1/sales/opportunities/{deal.id}"},
    )
