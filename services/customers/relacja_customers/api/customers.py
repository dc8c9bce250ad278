"""``/api/v1/customers``: create, read, update, list and search customers (HTTP; the use
cases are in ``app/customers.py``).

    POST  /api/v1/customers          create (Idempotency-Key); 409 on a duplicate e-mail, phone or external id
    GET   /api/v1/customers/{id}     one customer with its ETag (also read by other services: read-through)
    PATCH /api/v1/customers/{id}     JSON merge patch (RFC 7396); If-Match required: 428 / 412
    GET   /api/v1/customers          list and search (?q=, filters, sort), cursor-paginated
"""

from __future__ import annotations

import functools
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from relacja_servicekit import SessionDep
from relacja_servicekit.etags import RequiredIfMatchHeader, check_if_match, etag
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.types import Timestamp
from relacja_servicekit.validation import RequireJson

from ..app import customers
from ..app.schemas import CustomerCreate, CustomerKind, CustomerPatch, CustomerPublic, CustomersPublic, LifecycleStage
from ..domain.customer import MIN_SEARCH_TOKEN

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/customers", tags=["customers"], dependencies=[RequireJson])

_CREATE_SCOPE = "customers.create"

_DUPLICATE = "Another customer has this e-mail, phone or external id (duplicate-customer; `existing_id` names it)"


@router.post(
    "",
    status_code=201,
    response_model=CustomerPublic,
    summary="Create a customer",
    responses=problem_responses({409: _DUPLICATE}, {422: "Invalid body, or company_id is not a company"}),
)
async def create_customer(
    body: CustomerCreate, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    try:
        async with session.begin():
            if stored := await claim_request(session, _CREATE_SCOPE, idempotency_key, body):
                return stored.to_response()
            customer = await customers.create_customer(session, body)
            return await created_response(
                session,
                _CREATE_SCOPE,
                idempotency_key,
                customer.model_dump(mode="json"),
                location=f"{router.prefix}/{customer.id}",
                version=customer.version,
            )
    except IntegrityError:
        async with session.begin():
            await customers.explain_create_conflict(session, body)
        raise


@router.get(
    "/{customer_id}",
    response_model=CustomerPublic,
    summary="Get a customer",
    description="An erased customer is answered with `erased_at` set; a merged-away or unknown id is 404.",
    responses=problem_responses({404: "No such customer (or it was merged into another)"}),
)
async def get_customer(customer_id: uuid.UUID, session: SessionDep, response: Response) -> CustomerPublic:
    customer = await customers.get_customer(session, customer_id)
    response.headers["ETag"] = etag(customer.version)
    return customer


@router.patch(
    "/{customer_id}",
    response_model=CustomerPublic,
    summary="Update a customer (JSON merge patch, If-Match required)",
    responses=problem_responses(
        {409: "Duplicate contact data (duplicate-customer), or the customer was erased (customer-erased)"},
        {422: "Invalid body, a change of kind, or a lifecycle move that is not allowed"},
    ),
)
async def update_customer(
    customer_id: uuid.UUID, body: CustomerPatch, session: SessionDep, if_match: RequiredIfMatchHeader
) -> JSONResponse:
    check_version = functools.partial(check_if_match, if_match, required=True, what="customer")
    try:
        async with session.begin():
            customer = await customers.patch_customer(session, customer_id, body, check_version)
    except IntegrityError:
        async with session.begin():
            await customers.explain_patch_conflict(session, customer_id, body)
        raise
    return JSONResponse(customer.model_dump(mode="json"), headers={"ETag": etag(customer.version)})


SortParam = Annotated[
    Literal["created_at", "-created_at", "display_name", "-display_name"],
    Query(description="Sort key; '-' for descending. Search results keep this order."),
]
_Identifier = Annotated[str | None, Query(min_length=1, max_length=200)]


@router.get(
    "",
    response_model=CustomersPublic,
    summary="List and search customers (cursor-paginated)",
    responses=problem_responses(
        {400: "Unknown parameter, bad value or cursor, or a search without a long enough fragment"}
    ),
)
async def list_customers(
    session: SessionDep,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
    sort: SortParam = "-created_at",
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            pattern=rf"\S{{{MIN_SEARCH_TOKEN}}}",
            description=f"Fragments of names, e-mail, phone or company name; all must match (one at least {MIN_SEARCH_TOKEN} characters)",
        ),
    ] = None,
    tag: Annotated[list[str] | None, Query(description="Has every one of these tags (repeat the parameter)")] = None,
    owner_id: _Identifier = None,
    lifecycle_stage: LifecycleStage | None = None,
    kind: CustomerKind | None = None,
    company_id: uuid.UUID | None = None,
    external_id: _Identifier = None,
    created_after: Annotated[Timestamp | None, Query(description="RFC 3339; inclusive")] = None,
    created_before: Annotated[Timestamp | None, Query(description="RFC 3339; exclusive")] = None,
) -> CustomersPublic:
    query = customers.CustomerQuery(
        sort=sort,
        q=q,
        tags=tag or [],
        equal={
            "owner_id": owner_id,
            "lifecycle_stage": lifecycle_stage,
            "kind": kind,
            "company_id": company_id,
            "external_id": external_id,
        },
        created_after=created_after,
        created_before=created_before,
    )
    return await customers.list_customers(session, query, limit=limit, cursor=cursor)
