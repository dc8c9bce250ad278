"""GDPR access and erasure (HTTP; the use cases are in ``app/privacy.py``).

GET  /api/v1/customers/{id}/export   everything held about the customer, one JSON document
POST /api/v1/customers/{id}/erase    pseudonymise the customer's personal data (idempotent;
                                     If-Match optional, checked when sent)
"""

from __future__ import annotations

import functools
import uuid

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from relacja_servicekit import SessionDep
from relacja_servicekit.etags import IfMatchHeader, check_if_match, etag
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.validation import RequireJson

from ..app import privacy
from ..app.privacy import CustomerExport
from ..app.schemas import CustomerPublic

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/customers", tags=["privacy"], dependencies=[RequireJson])


@router.get(
    "/{customer_id}/export",
    response_model=CustomerExport,
    summary="Everything held about a customer (GDPR access)",
    responses=problem_responses({404: "No such customer"}),
)
async def export_customer(customer_id: uuid.UUID, session: SessionDep) -> CustomerExport:
    async with session.begin():
        return await privacy.export_customer(session, customer_id)


@router.post(
    "/{customer_id}/erase",
    response_model=CustomerPublic,
    summary="Erase a customer's personal data (GDPR erasure; idempotent)",
    description="Erasing an erased customer changes nothing and answers the record as it is.",
    responses=problem_responses({404: "No such customer"}),
)
async def erase_customer(customer_id: uuid.UUID, session: SessionDep, if_match: IfMatchHeader = None) -> JSONResponse:
    check_version = functools.partial(check_if_match, if_match, what="customer")
    async with session.begin():
        customer = await privacy.erase_customer(session, customer_id, check_version)
    return JSONResponse(customer.model_dump(mode="json"), headers={"ETag": etag(customer.version)})
