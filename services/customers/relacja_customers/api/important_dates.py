"""Important dates: ``/api/v1/customers/{id}/important-dates`` and the window query.

    GET    /api/v1/customers/important-dates?from=&to=&kind=        whose dates occur in [from, to]
    POST   /api/v1/customers/{id}/important-dates                   add one (Idempotency-Key)
    GET    /api/v1/customers/{id}/important-dates                   the customer's dates
    GET    /api/v1/customers/{id}/important-dates/{date_id}
    PATCH  /api/v1/customers/{id}/important-dates/{date_id}         (If-Match: 412 on a stale ETag)
    DELETE /api/v1/customers/{id}/important-dates/{date_id}

When a date occurs (29 February in common years, New Year wrap) is decided by
``domain.important_dates``; :func:`window_query` is shared with the daily announcer
(``scheduler.py``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, and_, case, delete, func, insert, literal, select, true, tuple_, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.idempotency import IdempotencyKeyHeader
from relacja_servicekit.models import RowModel
from relacja_servicekit.pagination import (
    DEFAULT_LIMIT,
    CursorParam,
    LimitParam,
    Page,
    decode_cursor,
    encode_cursor,
    paginate,
)
from relacja_servicekit.validation import RequireJson

from ..domain.important_dates import WindowError, check_important_date, observed_on, segments, stored_range, years_since
from ..related_data import RelatedData, register
from ..related_rows import claim_and_lock, forget_stored_responses, lock_customer, remember_created
from ..tables import important_dates
from .records import load_customer

__all__ = ["router", "window_query", "ImportantDatePublic"]

router = APIRouter(prefix="/api/v1/customers", tags=["important dates"], dependencies=[RequireJson])

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_CREATE_SCOPE = "customers.important-dates.create"

ImportantDateKind = Literal["birthday", "name_day", "purchase_anniversary", "contract_anniversary", "custom"]


class ImportantDateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: ImportantDateKind
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31, description="29 February is allowed; in common years it is observed on 28 February")
    year: int | None = Field(default=None, ge=1, le=9999, description="Birth year, year of the first purchase, ...")
    label: str | None = Field(default=None, min_length=1, max_length=200, description="Required for kind=custom")


class ImportantDateUpdate(BaseModel):
    """Only the fields sent change; ``year`` and ``label`` may be set to null."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: ImportantDateKind | None = None
    month: int | None = Field(default=None, ge=1, le=12)
    day: int | None = Field(default=None, ge=1, le=31)
    year: int | None = Field(default=None, ge=1, le=9999)
    label: str | None = Field(default=None, min_length=1, max_length=200)


class ImportantDatePublic(RowModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    kind: ImportantDateKind
    month: int
    day: int
    year: int | None
    label: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class ImportantDateOccurrence(BaseModel):
    occurs_on: date = Field(description="The day the date is observed in the window")
    years: int | None = Field(description="Which anniversary this is (the age at a birthday); null without a year")
    important_date: ImportantDatePublic


ImportantDatesPublic = Page[ImportantDatePublic]
ImportantDateOccurrences = Page[ImportantDateOccurrence]


def _today() -> date:
    return datetime.now(UTC).date()


def _etag(item: ImportantDatePublic) -> str:
    return f'"{item.version}"'


def _invalid(errors: list[tuple[str, str]]) -> Problem:
    return Problem(
        422,
        "Validation failed",
        "The important date is not valid.",
        type_="validation-error",
        errors=[{"field": f"body.{field}", "message": message} for field, message in errors],
    )


def _not_found(date_id: uuid.UUID) -> Problem:
    return Problem(404, "Important date not found", f"No important date with id {date_id} for this customer.", type_="not-found")


def window_query(first: date, last: date, *, kind: str | None = None, after: list[Any] | None = None) -> Select[Any]:
    """Important dates observed in ``[first, last]``, one row per occurrence, ordered by
    ``(occurrence_year, month, day, id)`` — which is occurrence order — after the keyset ``after``.

    One branch per calendar year of the window; each pre-filters ``(month, day)`` with the
    exact range of :func:`stored_range`, so the ``(month, day, id)`` index serves it. Rows
    of erased customers' dates are left out.
    """
    branches = []
    for segment in segments(first, last):
        (low_month, low_day), (high_month, high_day) = stored_range(segment)
        month_day = tuple_(important_dates.c.month, important_dates.c.day)
        conditions = [
            month_day >= tuple_(literal(low_month), literal(low_day)),
            month_day <= tuple_(literal(high_month), literal(high_day)),
            important_dates.c.erased_at.is_(None),
            important_dates.c.kind == kind if kind else true(),
        ]
        if after is not None:
            after_year, after_month, after_day, after_id = after
            if segment.year < after_year:
                continue
            if segment.year == after_year:
                conditions.append(
                    tuple_(important_dates.c.month, important_dates.c.day, important_dates.c.id)
                    > tuple_(literal(after_month), literal(after_day), literal(after_id))
                )
        branches.append(select(*important_dates.c, literal(segment.year).label("occurrence_year")).where(and_(*conditions)))
    if not branches:
        return select(*important_dates.c, literal(0).label("occurrence_year")).where(literal(False))
    occurrences = union_all(*branches).subquery("occurrences")
    return select(occurrences).order_by(
        occurrences.c.occurrence_year, occurrences.c.month, occurrences.c.day, occurrences.c.id
    )


@router.get(
    "/important-dates",
    response_model=ImportantDateOccurrences,
    summary="Whose important dates occur in a window of days",
    description=(
        "Every occurrence of an important date in `[from, to]` (both days included, at most 366 days), "
        "soonest first. The window may cross New Year; 29 February is observed on 28 February in "
        "common years."
    ),
)
async def important_dates_in_window(
    session: SessionDep,
    first: Annotated[date, Query(alias="from", description="First day of the window (YYYY-MM-DD)")],
    last: Annotated[date, Query(alias="to", description="Last day of the window, included")],
    kind: ImportantDateKind | None = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> ImportantDateOccurrences:
    try:
        window = segments(first, last)
    except WindowError as error:
        raise Problem(
            400,
            "Invalid parameter",
            error.message,
            type_="invalid-parameter",
            errors=[{"field": f"query.{error.field}", "message": error.message}],
        ) from None
    sort = f"important-dates:{first.isoformat()}:{last.isoformat()}:{kind or ''}"
    after = None
    if cursor:
        after = decode_cursor(cursor, sort=sort, arity=4)
        if not all(isinstance(value, int) for value in after[:3]) or not isinstance(after[3], uuid.UUID):
            raise Problem(400, "Invalid cursor", "The cursor is malformed.", type_="invalid-cursor")
    rows = (await session.execute(window_query(first, last, kind=kind, after=after).limit(limit + 1))).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last_row = rows[-1]
        next_cursor = encode_cursor([last_row.occurrence_year, last_row.month, last_row.day, last_row.id], sort)
    items = []
    for row in rows:
        occurs_on = observed_on(row.month, row.day, row.occurrence_year)
        if any(segment.first <= occurs_on <= segment.last for segment in window):  # the pure rule has the last word
            items.append(
                ImportantDateOccurrence(
                    occurs_on=occurs_on,
                    years=years_since(row.year, occurs_on),
                    important_date=ImportantDatePublic.from_row(row),
                )
            )
    return ImportantDateOccurrences(items=items, next_cursor=next_cursor)


@router.post(
    "/{customer_id}/important-dates",
    status_code=201,
    response_model=ImportantDatePublic,
    summary="Add an important date to a customer",
    responses={
        404: {"description": "No such customer", **_PROBLEM},
        409: {"description": "The customer was erased", **_PROBLEM},
        422: {"description": "Invalid date", **_PROBLEM},
    },
)
async def create_important_date(
    customer_id: uuid.UUID, body: ImportantDateCreate, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    errors = check_important_date(body.kind, body.month, body.day, body.year, body.label, today=_today())
    if errors:
        raise _invalid(errors)
    async with session.begin():
        stored = await claim_and_lock(session, _CREATE_SCOPE, idempotency_key, customer_id, body)
        if stored:
            return stored
        row = (
            await session.execute(
                insert(important_dates)
                .values(id=uuid.uuid4(), customer_id=customer_id, **body.model_dump())
                .returning(*important_dates.c)
            )
        ).one()
        item = ImportantDatePublic.from_row(row)
        payload = item.model_dump(mode="json")
        headers = {"Location": f"/api/v1/customers/{customer_id}/important-dates/{item.id}", "ETag": _etag(item)}
        return await remember_created(session, _CREATE_SCOPE, idempotency_key, payload, headers=headers)


@router.get(
    "/{customer_id}/important-dates",
    response_model=ImportantDatesPublic,
    summary="A customer's important dates, in calendar order",
    responses={404: {"description": "No such customer", **_PROBLEM}},
)
async def list_important_dates(
    customer_id: uuid.UUID, session: SessionDep, limit: LimitParam = DEFAULT_LIMIT, cursor: CursorParam = None
) -> ImportantDatesPublic:
    await load_customer(session, customer_id)
    return await paginate(
        session,
        select(important_dates).where(important_dates.c.customer_id == customer_id),
        keys=[important_dates.c.month, important_dates.c.day, important_dates.c.id],
        limit=limit,
        cursor=cursor,
        sort="month-day",
        to_item=ImportantDatePublic.from_row,
    )


async def _get(session: AsyncSession, customer_id: uuid.UUID, date_id: uuid.UUID, *, for_update: bool = False) -> Any:
    query = select(important_dates).where(important_dates.c.id == date_id, important_dates.c.customer_id == customer_id)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).first()
    if row is None:
        await load_customer(session, customer_id)
        raise _not_found(date_id)
    return row


@router.get(
    "/{customer_id}/important-dates/{date_id}",
    response_model=ImportantDatePublic,
    summary="One important date",
    responses={404: {"description": "No such customer or date", **_PROBLEM}},
)
async def get_important_date(
    customer_id: uuid.UUID, date_id: uuid.UUID, session: SessionDep, response: Response
) -> ImportantDatePublic:
    item = ImportantDatePublic.from_row(await _get(session, customer_id, date_id))
    response.headers["ETag"] = _etag(item)
    return item


@router.patch(
    "/{customer_id}/important-dates/{date_id}",
    response_model=ImportantDatePublic,
    summary="Change an important date",
    responses={
        404: {"description": "No such customer or date", **_PROBLEM},
        409: {"description": "The customer was erased", **_PROBLEM},
        412: {"description": "If-Match does not match the current ETag", **_PROBLEM},
        422: {"description": "Invalid date", **_PROBLEM},
    },
)
async def update_important_date(
    customer_id: uuid.UUID,
    date_id: uuid.UUID,
    body: ImportantDateUpdate,
    session: SessionDep,
    response: Response,
    if_match: Annotated[str | None, Header(alias="If-Match", description="The ETag the change is based on")] = None,
) -> ImportantDatePublic:
    changes = body.model_dump(exclude_unset=True)
    required_nulls = [name for name in ("kind", "month", "day") if name in changes and changes[name] is None]
    if required_nulls:
        raise _invalid([(name, "may not be null") for name in required_nulls])
    async with session.begin():
        await lock_customer(session, customer_id)  # 404 for an unknown customer, 409 for an erased one
        current = ImportantDatePublic.from_row(await _get(session, customer_id, date_id, for_update=True))
        if if_match is not None and if_match.strip() not in (_etag(current), "*"):
            raise Problem(
                412,
                "Precondition failed",
                f"The important date changed since it was read: its ETag is now {_etag(current)}.",
                type_="precondition-failed",
                errors=[{"field": "header.If-Match", "message": "does not match the current ETag"}],
            )
        merged = current.model_dump() | changes
        errors = check_important_date(
            merged["kind"], merged["month"], merged["day"], merged["year"], merged["label"], today=_today()
        )
        if errors:
            raise _invalid(errors)
        if any(merged[name] != getattr(current, name) for name in changes):
            row = (
                await session.execute(
                    update(important_dates)
                    .where(important_dates.c.id == date_id)
                    .values(**changes, version=important_dates.c.version + 1, updated_at=func.now())
                    .returning(*important_dates.c)
                )
            ).one()
            current = ImportantDatePublic.from_row(row)
    response.headers["ETag"] = _etag(current)
    return current


@router.delete(
    "/{customer_id}/important-dates/{date_id}",
    status_code=204,
    summary="Remove an important date",
    responses={404: {"description": "No such customer or date", **_PROBLEM}},
)
async def delete_important_date(customer_id: uuid.UUID, date_id: uuid.UUID, session: SessionDep) -> Response:
    async with session.begin():
        deleted = await session.scalar(
            delete(important_dates)
            .where(important_dates.c.id == date_id, important_dates.c.customer_id == customer_id)
            .returning(important_dates.c.id)
        )
        if deleted is None:
            await load_customer(session, customer_id)
            raise _not_found(date_id)
    return Response(status_code=204)


# -- merge, export, erasure (related_data.py) ---------------------------------------------


async def _rekey(session: AsyncSession, from_id: uuid.UUID, to_id: uuid.UUID) -> None:
    await session.execute(update(important_dates).where(important_dates.c.customer_id == from_id).values(customer_id=to_id))


async def _export(session: AsyncSession, customer_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(important_dates)
        .where(important_dates.c.customer_id == customer_id)
        .order_by(important_dates.c.month, important_dates.c.day, important_dates.c.id)
    )
    return [ImportantDatePublic.from_row(row).model_dump(mode="json") for row in rows]


async def _erase(session: AsyncSession, customer_id: uuid.UUID) -> None:
    # The label may name people or events; with a birthday, the year completes a birth date.
    # Erased dates are no longer announced nor listed in windows.
    await session.execute(
        update(important_dates)
        .where(important_dates.c.customer_id == customer_id)
        .values(
            label=None,
            year=case((important_dates.c.kind == "birthday", None), else_=important_dates.c.year),
            erased_at=func.now(),
            version=important_dates.c.version + 1,
            updated_at=func.now(),
        )
    )
    await forget_stored_responses(session, _CREATE_SCOPE, customer_id)



register(RelatedData(name="important_dates", rekey=_rekey, export=_export, erase=_erase))
