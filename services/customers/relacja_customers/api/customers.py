"""``/api/v1/customers``: create, read, update, list and search customers.

    POST  /api/v1/customers          create (Idempotency-Key); 409 on a duplicate e-mail, phone or external id
    GET   /api/v1/customers/{id}     one customer with its ETag
    PATCH /api/v1/customers/{id}     JSON merge patch (RFC 7396) with If-Match: 428 / 412
    GET   /api/v1/customers          list and search (?q=, filters, sort), cursor-paginated

Every write changes the row and emits its event (``registered`` / ``updated``) in one
transaction. An update that changes nothing is answered with the record as it is: no
new version, no event.

Search: ``q`` is split into fragments (``domain.customer.search_tokens``) that must all
occur in the customer's names, e-mail, phone digits or — for a person — the company's
name; a trigram GIN index (``pg_trgm``) finds them. Results keep the requested ``sort``
(no relevance ranking), so a search is cursor-paginated exactly like a plain list.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy import ColumnElement, and_, select, text
from sqlalchemy.exc import IntegrityError

from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim, fingerprint, remember
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, paginate
from relacja_servicekit.validation import RequireJson

from ..domain.customer import MIN_SEARCH_TOKEN, apply_changes, changed_fields, like_pattern, search_tokens
from ..events import emit
from ..tables import customers
from ..tables.customers import PUBLIC_COLUMNS
from .records import (
    etag,
    fields_of,
    insert_customer,
    load_customer,
    public_of,
    registered_event,
    reject_duplicates,
    reject_erased,
    require_if_match,
    require_if_match_header,
    update_customer,
    updated_event,
    validate_record,
)
from .schemas import (
    CustomerCreate,
    CustomerKind,
    CustomerPatch,
    CustomerPublic,
    CustomersPublic,
    LifecycleStage,
    changes_of,
)

__all__ = ["router", "PROBLEM", "IfMatchHeader"]

router = APIRouter(prefix="/api/v1/customers", tags=["customers"], dependencies=[RequireJson])

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_CREATE_SCOPE = "customers.create"

IfMatchHeader = Annotated[
    str | None,
    Header(alias="If-Match", description='The ETag of the version being changed, e.g. "3" (required)'),
]


@router.post(
    "",
    status_code=201,
    response_model=CustomerPublic,
    summary="Create a customer",
    responses={
        409: {"description": "Duplicate e-mail, phone or external id (`existing_id` names the record)", **PROBLEM},
        422: {"description": "Invalid body", **PROBLEM},
    },
)
async def create_customer(
    body: CustomerCreate, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    request_fingerprint = fingerprint(body.model_dump(mode="json"))
    fields = apply_changes(body.kind, {}, changes_of(body, include_defaults=True))
    try:
        async with session.begin():
            if idempotency_key:
                stored = await claim(session, scope=_CREATE_SCOPE, key=idempotency_key, fingerprint=request_fingerprint)
                if stored:
                    return stored.to_response()
            await validate_record(session, body.kind, fields)
            await reject_duplicates(session, fields)
            row = await insert_customer(session, body.kind, fields)
            await emit(session, registered_event(row))
            customer = public_of(row)
            headers = {"Location": f"/api/v1/customers/{customer.id}", "ETag": etag(customer.version)}
            payload = customer.model_dump(mode="json")
            if idempotency_key:
                await remember(session, _CREATE_SCOPE, idempotency_key, status_code=201, body=payload, headers=headers)
    except IntegrityError:
        # Lost a race with a concurrent create of the same e-mail, phone or external id.
        async with session.begin():
            await reject_duplicates(session, fields)
        raise
    return JSONResponse(payload, status_code=201, headers=headers)


@router.get(
    "/{customer_id}",
    response_model=CustomerPublic,
    summary="Get a customer",
    responses={404: {"description": "No such customer", **PROBLEM}},
)
async def get_customer(customer_id: uuid.UUID, session: SessionDep, response: Response) -> CustomerPublic:
    row = (await session.execute(select(*PUBLIC_COLUMNS).where(customers.c.id == customer_id))).first()
    if row is None:
        raise Problem(404, "Customer not found", f"No customer with id {customer_id}.", type_="not-found")
    response.headers["ETag"] = etag(row.version)
    return public_of(row)


@router.patch(
    "/{customer_id}",
    response_model=CustomerPublic,
    summary="Update a customer (JSON merge patch, If-Match required)",
    responses={
        404: {"description": "No such customer", **PROBLEM},
        409: {"description": "Duplicate contact data, or the customer was erased", **PROBLEM},
        412: {"description": "If-Match does not match the current ETag", **PROBLEM},
        422: {"description": "Invalid body, or a lifecycle move that is not allowed", **PROBLEM},
        428: {"description": "If-Match is missing", **PROBLEM},
    },
)
async def update_customer_route(
    customer_id: uuid.UUID, body: CustomerPatch, session: SessionDep, if_match: IfMatchHeader = None
) -> JSONResponse:
    require_if_match_header(if_match)
    changes, kind = changes_of(body), body.kind
    try:
        async with session.begin():
            before = await load_customer(session, customer_id, for_update=True)
            require_if_match(if_match, before.version)
            reject_erased(before)
            if kind is not None and kind != before.kind:
                raise Problem(
                    422,
                    "Validation failed",
                    "A customer's kind cannot change.",
                    type_="validation-error",
                    errors=[{"field": "body.kind", "message": f"cannot change from {before.kind}"}],
                )
            current = fields_of(before)
            fields = apply_changes(before.kind, current, changes)
            changed = changed_fields(current, fields)
            if not changed:
                row = before
            else:
                await validate_record(session, before.kind, fields, before=current, customer_id=customer_id)
                await reject_duplicates(session, fields, customer_id=customer_id)
                row = await update_customer(session, before, fields)
                await emit(session, updated_event(row, changed))
            customer = public_of(row)
    except IntegrityError:
        async with session.begin():
            await reject_duplicates(session, fields, customer_id=customer_id)
        raise
    return JSONResponse(customer.model_dump(mode="json"), headers={"ETag": etag(customer.version)})


SortParam = Annotated[
    Literal["created_at", "-created_at", "display_name", "-display_name"],
    Query(description="Sort key; '-' for descending. Search results keep this order."),
]


@router.get(
    "",
    response_model=CustomersPublic,
    summary="List and search customers (cursor-paginated)",
    responses={400: {"description": "Unknown parameter, bad value or cursor, or a search fragment too short", **PROBLEM}},
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
            description=f"Fragments of names, e-mail, phone or company name; all must match (one at least {MIN_SEARCH_TOKEN} characters)",
        ),
    ] = None,
    tag: Annotated[list[str] | None, Query(description="Has every one of these tags (repeat the parameter)")] = None,
    owner_id: str | None = None,
    lifecycle_stage: LifecycleStage | None = None,
    kind: CustomerKind | None = None,
    company_id: uuid.UUID | None = None,
    external_id: str | None = None,
    created_after: Annotated[datetime | None, Query(description="RFC 3339; inclusive")] = None,
    created_before: Annotated[datetime | None, Query(description="RFC 3339; exclusive")] = None,
) -> CustomersPublic:
    conditions: list[ColumnElement[bool]] = [customers.c.erased_at.is_(None)]
    if q is not None:
        tokens = search_tokens(q)
        if not tokens:
            raise Problem(
                400,
                "Invalid parameter",
                f"A search needs at least one fragment of {MIN_SEARCH_TOKEN} or more characters.",
                type_="invalid-parameter",
                errors=[{"field": "query.q", "message": f"no fragment of at least {MIN_SEARCH_TOKEN} characters"}],
            )
        conditions += [customers.c.search_document.like(like_pattern(token), escape="\\") for token in tokens]
    if tag:
        conditions.append(customers.c.tags.contains(sorted(set(tag))))
    for column, value in (
        (customers.c.owner_id, owner_id),
        (customers.c.lifecycle_stage, lifecycle_stage),
        (customers.c.kind, kind),
        (customers.c.company_id, company_id),
        (customers.c.external_id, external_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if created_after is not None:
        conditions.append(customers.c.created_at >= created_after)
    if created_before is not None:
        conditions.append(customers.c.created_at < created_before)
    key = customers.c.display_name if sort.lstrip("-") == "display_name" else customers.c.created_at
    if q is not None:
        # The best plan depends on how common the fragments are (the trigram index for rare
        # ones, walking the sort index for common ones): plan with the actual pattern every
        # time, never with a cached generic plan that cannot see it.
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    return await paginate(
        session,
        select(*PUBLIC_COLUMNS).where(and_(*conditions)),
        keys=[key, customers.c.id],
        limit=limit,
        cursor=cursor,
        descending=sort.startswith("-"),
        sort=sort,
        to_item=CustomerPublic.from_row,
    )
