"""``/api/v1/customers``: create, read and list customers.

Creating a customer writes the row and ``relacja.customers.customer.registered.v1`` to
the outbox in one transaction; the relay publishes it.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from relacja_contracts.events import CustomerRegisteredV1
from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim, fingerprint, remember
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, paginate
from relacja_servicekit.validation import RequireJson

from ..domain.contact import normalize_display_name, normalize_email
from ..events import emit
from ..tables import customers
from .schemas import CustomerCreate, CustomerKind, CustomerPublic, CustomersPublic, LifecycleStage

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/customers", tags=["customers"], dependencies=[RequireJson])

_PROBLEM = {"content": {"application/problem+json": {}}}
_CREATE_SCOPE = "customers.create"


def _etag(customer: CustomerPublic) -> str:
    return f'"{customer.version}"'


def _duplicate(existing_id: uuid.UUID, field: str) -> Problem:
    return Problem(
        409,
        "Duplicate customer",
        f"A customer with this {field} already exists.",
        type_="duplicate-customer",
        extra={"existing_id": str(existing_id)},
        errors=[{"field": f"body.{field}", "message": "already used by another customer"}],
    )


@router.post(
    "",
    status_code=201,
    response_model=CustomerPublic,
    summary="Create a customer",
    responses={409: {"description": "Duplicate e-mail or external id", **_PROBLEM}, 422: {"description": "Invalid body", **_PROBLEM}},
)
async def create_customer(
    body: CustomerCreate, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    request_fingerprint = fingerprint(body.model_dump(mode="json"))
    email = normalize_email(body.email)
    try:
        async with session.begin():
            if idempotency_key:
                stored = await claim(session, scope=_CREATE_SCOPE, key=idempotency_key, fingerprint=request_fingerprint)
                if stored:
                    return stored.to_response()
            await _reject_duplicates(session, email, body.external_id)
            row = (
                await session.execute(
                    insert(customers)
                    .values(
                        id=uuid.uuid4(),
                        kind=body.kind,
                        display_name=normalize_display_name(body.display_name),
                        email=body.email,
                        email_normalized=email,
                        lifecycle_stage=body.lifecycle_stage,
                        external_id=body.external_id,
                        tags=sorted(set(body.tags)),
                    )
                    .returning(*customers.c)
                )
            ).one()
            customer = CustomerPublic.from_row(row)
            await emit(
                session,
                CustomerRegisteredV1(
                    customer_id=customer.id,
                    kind=customer.kind,
                    display_name=customer.display_name,
                    email=email,
                    lifecycle_stage=customer.lifecycle_stage,
                    registered_at=customer.created_at,
                ),
            )
            headers = {"Location": f"/api/v1/customers/{customer.id}", "ETag": _etag(customer)}
            payload = customer.model_dump(mode="json")
            if idempotency_key:
                await remember(session, _CREATE_SCOPE, idempotency_key, status_code=201, body=payload, headers=headers)
    except IntegrityError:
        # Lost a race with a concurrent create of the same e-mail or external id.
        async with session.begin():
            await _reject_duplicates(session, email, body.external_id)
        raise
    return JSONResponse(payload, status_code=201, headers=headers)


async def _reject_duplicates(session: SessionDep, email: str | None, external_id: str | None) -> None:
    if email:
        existing = await session.scalar(select(customers.c.id).where(customers.c.email_normalized == email))
        if existing:
            raise _duplicate(existing, "email")
    if external_id:
        existing = await session.scalar(select(customers.c.id).where(customers.c.external_id == external_id))
        if existing:
            raise _duplicate(existing, "external_id")


@router.get(
    "/{customer_id}",
    response_model=CustomerPublic,
    summary="Get a customer",
    responses={404: {"description": "No such customer", **_PROBLEM}},
)
async def get_customer(customer_id: uuid.UUID, session: SessionDep, response: Response) -> CustomerPublic:
    row = (await session.execute(select(customers).where(customers.c.id == customer_id))).first()
    if row is None:
        raise Problem(404, "Customer not found", f"No customer with id {customer_id}.", type_="not-found")
    customer = CustomerPublic.from_row(row)
    response.headers["ETag"] = _etag(customer)
    return customer


@router.get("", response_model=CustomersPublic, summary="List customers (cursor-paginated)")
async def list_customers(
    session: SessionDep,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
    sort: Annotated[Literal["created_at", "-created_at"], Query(description="Sort key; '-' for newest first")] = "-created_at",
    lifecycle_stage: LifecycleStage | None = None,
    kind: CustomerKind | None = None,
) -> CustomersPublic:
    query = select(customers)
    if lifecycle_stage:
        query = query.where(customers.c.lifecycle_stage == lifecycle_stage)
    if kind:
        query = query.where(customers.c.kind == kind)
    return await paginate(
        session,
        query,
        keys=[customers.c.created_at, customers.c.id],
        limit=limit,
        cursor=cursor,
        descending=sort.startswith("-"),
        sort=sort,
        to_item=CustomerPublic.from_row,
    )
