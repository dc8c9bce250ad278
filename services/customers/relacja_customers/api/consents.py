"""Consents: ``/api/v1/customers/{id}/consents`` (HTTP; the use cases are in ``app/consents.py``).

POST /api/v1/customers/{id}/consents            grant or withdraw (Idempotency-Key)
                                                201: recorded, event emitted
                                                200: same as the current state, nothing recorded
GET  /api/v1/customers/{id}/consents            the current state of each consent
GET  /api/v1/customers/{id}/consents/history    every record, newest first (cursor-paginated)
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse

from relacja_contracts.events.customers import ConsentPurpose
from relacja_servicekit import SessionDep
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.validation import RequireJson

from ..app import consents
from ..app.consents import CREATE_SCOPE, ConsentChange, ConsentHistory, ConsentRecordPublic, CurrentConsents

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/customers", tags=["consents"], dependencies=[RequireJson])

PrincipalHeader = Annotated[
    str | None,
    Header(alias="X-Relacja-Principal", include_in_schema=False, description="Set by the gateway: the caller"),
]


@router.post(
    "/{customer_id}/consents",
    status_code=201,
    response_model=ConsentRecordPublic,
    summary="Grant or withdraw a consent",
    description=(
        "201 with the new record when the consent's state changes (and ConsentGranted/ConsentWithdrawn is "
        "emitted); 200 with the current record, recording nothing, when the status is already the current one."
    ),
    responses={
        200: {"description": "Unchanged: the status is already the current one", "model": ConsentRecordPublic},
        **problem_responses(
            {
                409: "A later record of this consent exists (consent-out-of-order), or the customer was erased (customer-erased)"
            },
            {
                422: "Invalid body: partner_id and partner_purpose are required for partner_sharing only; occurred_at not in the future"
            },
        ),
    },
)
async def record_consent(
    customer_id: uuid.UUID,
    body: ConsentChange,
    session: SessionDep,
    idempotency_key: IdempotencyKeyHeader = None,
    principal: PrincipalHeader = None,
) -> JSONResponse:
    async with session.begin():
        request = {"customer_id": str(customer_id), **body.model_dump(mode="json")}
        if stored := await claim_request(session, CREATE_SCOPE, idempotency_key, request):
            return stored.to_response()
        changed, record = await consents.record_consent(session, customer_id, body, principal)
        return await created_response(
            session, CREATE_SCOPE, idempotency_key, record.model_dump(mode="json"), status_code=201 if changed else 200
        )


@router.get(
    "/{customer_id}/consents",
    response_model=CurrentConsents,
    summary="The current state of a customer's consents",
    responses=problem_responses({404: "No such customer"}),
)
async def current_consents(
    customer_id: uuid.UUID, session: SessionDep, purpose: ConsentPurpose | None = None
) -> CurrentConsents:
    return await consents.current_consents(session, customer_id, purpose)


@router.get(
    "/{customer_id}/consents/history",
    response_model=ConsentHistory,
    summary="Every consent record of a customer, newest first",
    responses=problem_responses({404: "No such customer"}),
)
async def consent_history(
    customer_id: uuid.UUID,
    session: SessionDep,
    purpose: ConsentPurpose | None = None,
    partner_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> ConsentHistory:
    return await consents.consent_history(
        session, customer_id, purpose=purpose, partner_id=partner_id, limit=limit, cursor=cursor
    )
