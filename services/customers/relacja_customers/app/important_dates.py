"""Important dates of a customer (birthdays, name days, anniversaries) and the window query.

    ImportantDateCreate / ImportantDateUpdate / ImportantDatePublic / ImportantDateOccurrence
    window_query(first, last, kind=, after=)        the SQL of "observed in [first, last]"
                                                    (shared with the announcer in workers.py)
    occurrences_in_window(session, ...)             a page of occurrences, soonest first
    create_date / list_dates / get_date / update_date / delete_date
    RELATED                                         merge, export and erasure of dates

When a date occurs (29 February in common years, New Year wrap) is decided by
``domain.important_dates``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy import Select, and_, case, delete, func, insert, literal, select, true, tuple_, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_servicekit import Problem
from relacja_servicekit.models import RowModel
from relacja_servicekit.pagination import Page, decode_cursor, encode_cursor, paginate
from relacja_servicekit.types import Integer, JsonInteger

from ..domain.important_dates import WindowError, check_important_date, observed_on, segments, stored_range, years_since
from ..tables import important_dates
from .records import load_customer
from .related_data import RelatedData
from .related_rows import forget_stored_responses, lock_customer

__all__ = [
    "CREATE_SCOPE",
    "RELATED",
    "ImportantDateCreate",
    "ImportantDateKind",
    "ImportantDateOccurrence",
    "ImportantDateOccurrences",
    "ImportantDatePublic",
    "ImportantDateUpdate",
    "ImportantDatesPublic",
    "create_date",
    "delete_date",
    "get_date",
    "list_dates",
    "occurrences_in_window",
    "update_date",
    "window_query",
]

#: The Idempotency-Key scope of adding a date (erasure forgets its stored answers).
CREATE_SCOPE = "customers.important-dates.create"

ImportantDateKind = Literal["birthday", "name_day", "purchase_anniversary", "contract_anniversary", "custom"]


class ImportantDateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: ImportantDateKind
    month: Integer = Field(ge=1, le=12)
    day: Integer = Field(
        ge=1, le=31, description="29 February is allowed; in common years it is observed on 28 February"
    )
    year: Integer | None = Field(default=None, ge=1, le=9999, description="Birth year, year of the first purchase, ...")
    label: str | None = Field(default=None, min_length=1, max_length=200, description="Required for kind=custom")


class ImportantDateUpdate(BaseModel):
    """Only the fields sent change; ``year`` and ``label`` may be set to null, ``kind``,
    ``month`` and ``day`` may not (the schema says so; a null is 422 naming the field)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # None only stands for "not sent": SkipJsonSchema keeps null out of the schema.
    kind: ImportantDateKind | SkipJsonSchema[None] = None
    month: Annotated[int, Field(ge=1, le=12), JsonInteger] | SkipJsonSchema[None] = None
    day: Annotated[int, Field(ge=1, le=31), JsonInteger] | SkipJsonSchema[None] = None
    year: Integer | None = Field(default=None, ge=1, le=9999)
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


def _invalid(errors: list[tuple[str, str]]) -> Problem:
    return Problem(
        422,
        "Validation failed",
        "The important date is not valid.",
        type_="validation-error",
        errors=[{"field": f"body.{field}", "message": message} for field, message in errors],
    )


def _not_found(date_id: uuid.UUID) -> Problem:
    return Problem(
        404, "Important date not found", f"No important date with id {date_id} for this customer.", type_="not-found"
    )


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
        branches.append(
            select(*important_dates.c, literal(segment.year).label("occurrence_year")).where(and_(*conditions))
        )
    if not branches:
        return select(*important_dates.c, literal(0).label("occurrence_year")).where(literal(False))
    occurrences = union_all(*branches).subquery("occurrences")
    return select(occurrences).order_by(
        occurrences.c.occurrence_year, occurrences.c.month, occurrences.c.day, occurrences.c.id
    )


async def occurrences_in_window(
    session: AsyncSession, first: date, last: date, *, kind: str | None, limit: int, cursor: str | None
) -> ImportantDateOccurrences:
    """A page of the occurrences in ``[first, last]``, soonest first (400 for a reversed or too long window, a bad cursor)."""
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


async def create_date(
    session: AsyncSession, customer_id: uuid.UUID, command: ImportantDateCreate
) -> ImportantDatePublic:
    """Add a date (422 invalid, 404 / 409 for a missing / erased customer)."""
    errors = check_important_date(command.kind, command.month, command.day, command.year, command.label, today=_today())
    if errors:
        raise _invalid(errors)
    await lock_customer(session, customer_id)
    row = (
        await session.execute(
            insert(important_dates)
            .values(id=uuid.uuid4(), customer_id=customer_id, **command.model_dump())
            .returning(*important_dates.c)
        )
    ).one()
    return ImportantDatePublic.from_row(row)


async def list_dates(
    session: AsyncSession, customer_id: uuid.UUID, *, limit: int, cursor: str | None
) -> ImportantDatesPublic:
    """The customer's dates in calendar order (404 when there is no such customer)."""
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


async def get_date(session: AsyncSession, customer_id: uuid.UUID, date_id: uuid.UUID) -> ImportantDatePublic:
    """One date (404 for a missing customer or date)."""
    return ImportantDatePublic.from_row(await _get(session, customer_id, date_id))


async def update_date(
    session: AsyncSession,
    customer_id: uuid.UUID,
    date_id: uuid.UUID,
    update_: ImportantDateUpdate,
    check_version: Callable[[int], None],
) -> ImportantDatePublic:
    """Change the fields sent (422 invalid, 404 missing, 409 erased customer); ``check_version``
    sees the date's current version first. Nothing changed: no new version."""
    changes = update_.model_dump(exclude_unset=True)
    required_nulls = [name for name in ("kind", "month", "day") if name in changes and changes[name] is None]
    if required_nulls:
        raise _invalid([(name, "may not be null") for name in required_nulls])
    await lock_customer(session, customer_id)  # 404 for an unknown customer, 409 for an erased one
    current = ImportantDatePublic.from_row(await _get(session, customer_id, date_id, for_update=True))
    check_version(current.version)
    merged = current.model_dump() | changes
    errors = check_important_date(
        merged["kind"], merged["month"], merged["day"], merged["year"], merged["label"], today=_today()
    )
    if errors:
        raise _invalid(errors)
    if not any(merged[name] != getattr(current, name) for name in changes):
        return current
    row = (
        await session.execute(
            update(important_dates)
            .where(important_dates.c.id == date_id)
            .values(**changes, version=important_dates.c.version + 1, updated_at=func.now())
            .returning(*important_dates.c)
        )
    ).one()
    return ImportantDatePublic.from_row(row)


async def delete_date(
    session: AsyncSession, customer_id: uuid.UUID, date_id: uuid.UUID, check_version: Callable[[int], None]
) -> None:
    """Remove a date (404 for a missing customer or date); ``check_version`` sees its version first."""
    current = await _get(session, customer_id, date_id, for_update=True)
    check_version(current.version)
    await session.execute(delete(important_dates).where(important_dates.c.id == date_id))


# -- merge, export, erasure (related_data.py) ---------------------------------------------


async def _rekey(session: AsyncSession, from_id: uuid.UUID, to_id: uuid.UUID) -> None:
    await session.execute(
        update(important_dates).where(important_dates.c.customer_id == from_id).values(customer_id=to_id)
    )


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
    await forget_stored_responses(session, CREATE_SCOPE, customer_id)


RELATED = RelatedData(name="important_dates", rekey=_rekey, export=_export, erase=_erase)
