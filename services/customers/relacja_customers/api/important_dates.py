"""Important dates: ``/api/v1/customers/{id}/important-dates`` and the window of days (HTTP;
the use cases are in ``app/important_dates.py``).

    GET    /api/v1/customers/important-dates?from=&to=&kind=        whose dates occur in [from, to]
    POST   /api/v1/customers/{id}/important-dates                   add one (Idempotency-Key)
    GET    /api/v1/customers/{id}/important-dates                   the customer's dates
    GET    /api/v1/customers/{id}/important-dates/{date_id}         one date with its ETag
    PATCH  /api/v1/customers/{id}/important-dates/{date_id}         If-Match required: 428 / 412
    DELETE /api/v1/customers/{id}/important-dates/{date_id}         If-Match optional, checked when sent
"""

from __future__ import annotations

import functools
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from relacja_servicekit import SessionDep
from relacja_servicekit.etags import IfMatchHeader, RequiredIfMatchHeader, check_if_match, etag
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.types import Day
from relacja_servicekit.validation import RequireJson

from ..app import important_dates
from ..app.important_dates import (
    CREATE_SCOPE,
    ImportantDateCreate,
    ImportantDateKind,
    ImportantDateOccurrences,
    ImportantDatePublic,
    ImportantDatesPublic,
    ImportantDateUpdate,
)
from ..domain.important_dates import MAX_WINDOW_DAYS

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/customers", tags=["important dates"], dependencies=[RequireJson])

_NO_SUCH = {404: "No such customer or date"}
_ERASED = {409: "The customer was erased (customer-erased)"}
_INVALID = {422: "Invalid date: a day the month does not have, a year in the future, custom without a label"}


@router.get(
    "/important-dates",
    response_model=ImportantDateOccurrences,
    summary="Whose important dates occur in a window of days",
    description=(
        f"Every occurrence of an important date in `[from, to]` (both days included, at most {MAX_WINDOW_DAYS} days), "
        "soonest first. The window may cross New Year; 29 February is observed on 28 February in "
        "common years."
    ),
    responses=problem_responses(
        {400: f"Unknown parameter, bad cursor, `to` before `from` or a window over {MAX_WINDOW_DAYS} days"}
    ),
)
async def important_dates_in_window(
    session: SessionDep,
    first: Annotated[Day, Query(alias="from", description="First day of the window (YYYY-MM-DD)")],
    last: Annotated[Day, Query(alias="to", description="Last day of the window, included")],
    kind: ImportantDateKind | None = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> ImportantDateOccurrences:
    return await important_dates.occurrences_in_window(session, first, last, kind=kind, limit=limit, cursor=cursor)


@router.post(
    "/{customer_id}/important-dates",
    status_code=201,
    response_model=ImportantDatePublic,
    summary="Add an important date to a customer",
    responses=problem_responses({404: "No such customer"}, _ERASED, _INVALID),
)
async def create_important_date(
    customer_id: uuid.UUID, body: ImportantDateCreate, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    async with session.begin():
        request = {"customer_id": str(customer_id), **body.model_dump(mode="json")}
        if stored := await claim_request(session, CREATE_SCOPE, idempotency_key, request):
            return stored.to_response()
        item = await important_dates.create_date(session, customer_id, body)
        return await created_response(
            session,
            CREATE_SCOPE,
            idempotency_key,
            item.model_dump(mode="json"),
            location=f"{router.prefix}/{customer_id}/important-dates/{item.id}",
            version=item.version,
        )


@router.get(
    "/{customer_id}/important-dates",
    response_model=ImportantDatesPublic,
    summary="A customer's important dates, in calendar order",
    responses=problem_responses({404: "No such customer"}),
)
async def list_important_dates(
    customer_id: uuid.UUID, session: SessionDep, limit: LimitParam = DEFAULT_LIMIT, cursor: CursorParam = None
) -> ImportantDatesPublic:
    return await important_dates.list_dates(session, customer_id, limit=limit, cursor=cursor)


@router.get(
    "/{customer_id}/important-dates/{date_id}",
    response_model=ImportantDatePublic,
    summary="One important date",
    responses=problem_responses(_NO_SUCH),
)
async def get_important_date(
    customer_id: uuid.UUID, date_id: uuid.UUID, session: SessionDep, response: Response
) -> ImportantDatePublic:
    item = await important_dates.get_date(session, customer_id, date_id)
    response.headers["ETag"] = etag(item.version)
    return item


@router.patch(
    "/{customer_id}/important-dates/{date_id}",
    response_model=ImportantDatePublic,
    summary="Change an important date (If-Match required)",
    responses=problem_responses(_NO_SUCH, _ERASED, _INVALID),
)
async def update_important_date(
    customer_id: uuid.UUID,
    date_id: uuid.UUID,
    body: ImportantDateUpdate,
    session: SessionDep,
    response: Response,
    if_match: RequiredIfMatchHeader,
) -> ImportantDatePublic:
    check_version = functools.partial(check_if_match, if_match, required=True, what="important date")
    async with session.begin():
        item = await important_dates.update_date(session, customer_id, date_id, body, check_version)
    response.headers["ETag"] = etag(item.version)
    return item


@router.delete(
    "/{customer_id}/important-dates/{date_id}",
    status_code=204,
    summary="Remove an important date",
    responses=problem_responses(_NO_SUCH),
)
async def delete_important_date(
    customer_id: uuid.UUID, date_id: uuid.UUID, session: SessionDep, if_match: IfMatchHeader = None
) -> Response:
    check_version = functools.partial(check_if_match, if_match, what="important date")
    async with session.begin():
        await important_dates.delete_date(session, customer_id, date_id, check_version)
    return Response(status_code=204)
