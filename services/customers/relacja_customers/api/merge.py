"""Likely duplicates of a customer, and merging two records into one (HTTP; the use cases
are in ``app/merge.py``).

    GET  /api/v1/customers/{id}/duplicates   ranked candidates with a score and the reasons
    POST /api/v1/customers/{id}/merge        {"merge_customer_id": ...}; If-Match on {id} required
"""

from __future__ import annotations

import functools
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from relacja_servicekit import SessionDep
from relacja_servicekit.etags import RequiredIfMatchHeader, check_if_match, etag
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.validation import RequireJson

from ..app import merge
from ..app.merge import MAX_DUPLICATES, NAME_SIMILARITY_THRESHOLD
from ..app.schemas import CustomerPublic

__all__ = ["router", "DuplicatesPublic", "MergeRequest"]

router = APIRouter(prefix="/api/v1/customers", tags=["customers"], dependencies=[RequireJson])


class DuplicatePublic(BaseModel):
    customer: CustomerPublic
    score: float = Field(ge=0, le=1, description="1.0 for a shared e-mail or phone, else the name similarity")
    reasons: list[Literal["email", "phone", "name"]] = Field(description="email, phone and/or name")


class DuplicatesPublic(BaseModel):
    items: list[DuplicatePublic]
    name_similarity_threshold: float = NAME_SIMILARITY_THRESHOLD


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    merge_customer_id: uuid.UUID = Field(description="The customer merged into this one (it is deleted)")


@router.get(
    "/{customer_id}/duplicates",
    response_model=DuplicatesPublic,
    summary="Likely duplicates of a customer",
    responses=problem_responses({404: "No such customer"}),
)
async def list_duplicates(
    customer_id: uuid.UUID,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_DUPLICATES, description=f"At most this many (1–{MAX_DUPLICATES})")] = 20,
) -> DuplicatesPublic:
    async with session.begin():
        found = await merge.list_duplicates(session, customer_id, limit)
    return DuplicatesPublic(items=[DuplicatePublic.model_validate(vars(duplicate)) for duplicate in found])


@router.post(
    "/{customer_id}/merge",
    response_model=CustomerPublic,
    summary="Merge another customer into this one (If-Match required)",
    responses=problem_responses(
        {404: "This customer or the other one does not exist"},
        {409: "One of them was erased (customer-erased)"},
        {422: "A merge into itself, or customers of different kinds"},
    ),
)
async def merge_customers(
    customer_id: uuid.UUID, body: MergeRequest, session: SessionDep, if_match: RequiredIfMatchHeader
) -> JSONResponse:
    check_version = functools.partial(check_if_match, if_match, required=True, what="customer")
    async with session.begin():
        customer = await merge.merge_customers(session, customer_id, body.merge_customer_id, check_version)
    return JSONResponse(customer.model_dump(mode="json"), headers={"ETag": etag(customer.version)})
