"""Reading and writing customer rows: what every write use case (create, patch, merge,
erase, import, the lifecycle consumer) shares, so the derived keys, the version and the
events are kept the same way everywhere.

    fields_of / public_of        a row as domain fields / as the public model
    not_found / load_customer    one row (optionally locked), 404 when missing
    reject_erased                409 for writes to an erased customer
    validate_record              cross-field rules, the stage move and the company link (422)
    reject_duplicates            409 naming the customer that has the e-mail, phone or external id
    insert_customer / update_customer
                                 the row with its derived keys (and persons' company name)
    stored_values                the fields with their derived keys, as stored
    registered_event / updated_event

The errors are raised as ``relacja_servicekit.Problem`` (the HTTP problem a client gets),
so a use case and the import name a field the same way (``location``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import CustomerRegisteredV1, CustomerUpdatedV1
from relacja_servicekit import Problem

from ..domain.contact import normalize_email
from ..domain.customer import FIELDS, check_fields, derived_columns
from ..domain.lifecycle import ALLOWED_MOVES, can_move
from ..tables import customers
from ..tables.customers import PUBLIC_COLUMNS
from .schemas import CustomerPublic

#: A row of any width (SQLAlchemy 2.1 types a row by its columns: ``Row[Any]`` is one column).
AnyRow = Row[*tuple[Any, ...]]

__all__ = [
    "AnyRow",
    "duplicate_problem",
    "fields_of",
    "insert_customer",
    "load_customer",
    "not_found",
    "public_of",
    "registered_event",
    "stored_values",
    "reject_duplicates",
    "reject_erased",
    "update_customer",
    "updated_event",
    "validate_record",
]


def fields_of(row: AnyRow | Mapping[str, Any]) -> dict[str, Any]:
    mapping = _mapping(row)
    return {name: mapping[name] for name in FIELDS}


def public_of(row: AnyRow) -> CustomerPublic:
    return CustomerPublic.from_row(row)


def not_found(customer_id: uuid.UUID, field: str | None = None) -> Problem:
    errors = [{"field": field, "message": "no such customer"}] if field else None
    return Problem(404, "Customer not found", f"No customer with id {customer_id}.", type_="not-found", errors=errors)


async def load_customer(
    session: AsyncSession, customer_id: uuid.UUID, *, for_update: bool = False, field: str | None = None
) -> AnyRow:
    query = select(*customers.c).where(customers.c.id == customer_id)
    row = (await session.execute(query.with_for_update() if for_update else query)).first()
    if row is None:
        raise not_found(customer_id, field)
    return row


def reject_erased(row: AnyRow, field: str | None = None) -> None:
    if row.erased_at is not None:
        raise Problem(
            409,
            "Customer erased",
            f"Customer {row.id} was erased on {row.erased_at.isoformat()}; it cannot be changed.",
            type_="customer-erased",
            errors=[{"field": field, "message": "erased"}] if field else None,
        )


def _invalid(errors: list[dict[str, str]], location: str) -> Problem:
    return Problem(
        422,
        "Validation failed",
        "The customer would not be valid.",
        type_="validation-error",
        errors=[{"field": f"{location}.{e['field']}", "message": e["message"]} for e in errors],
    )


async def validate_record(
    session: AsyncSession,
    kind: str,
    fields: Mapping[str, Any],
    *,
    before: Mapping[str, Any] | None = None,
    customer_id: uuid.UUID | None = None,
    location: str = "body",
) -> None:
    """Cross-field rules, the lifecycle move from ``before``, and the company link: 422."""
    errors = check_fields(kind, fields)
    if before is not None and not can_move(before["lifecycle_stage"], fields["lifecycle_stage"]):
        allowed = ", ".join(sorted(ALLOWED_MOVES[before["lifecycle_stage"]]))
        errors.append(
            {
                "field": "lifecycle_stage",
                "message": f"cannot move from {before['lifecycle_stage']} to {fields['lifecycle_stage']} (allowed: {allowed})",
            }
        )
    company_id = fields.get("company_id")
    if company_id is not None and (before is None or before.get("company_id") != company_id):
        company_kind = await session.scalar(
            select(customers.c.kind).where(customers.c.id == company_id, customers.c.erased_at.is_(None))
        )
        if company_id == customer_id or company_kind != "company":
            errors.append({"field": "company_id", "message": "not the id of a customer of kind company"})
    if errors:
        raise _invalid(errors, location)


def duplicate_problem(existing_id: uuid.UUID, field: str, location: str = "body") -> Problem:
    return Problem(
        409,
        "Duplicate customer",
        f"A customer with this {field} already exists.",
        type_="duplicate-customer",
        extra={"existing_id": str(existing_id)},
        errors=[{"field": f"{location}.{field}", "message": "already used by another customer"}],
    )


async def reject_duplicates(
    session: AsyncSession, fields: Mapping[str, Any], *, customer_id: uuid.UUID | None = None, location: str = "body"
) -> None:
    """409 when another customer has the normalised e-mail, the phone or the external id."""
    keys = {
        "email": (customers.c.email_normalized, derived_columns(fields)["email_normalized"]),
        "phone": (customers.c.phone, fields.get("phone")),
        "external_id": (customers.c.external_id, fields.get("external_id")),
    }
    wanted = {name: (column, value) for name, (column, value) in keys.items() if value is not None}
    if not wanted:
        return
    query = select(customers.c.id, *(column for column, _ in wanted.values())).where(
        or_(*(column == value for column, value in wanted.values()))
    )
    if customer_id is not None:
        query = query.where(customers.c.id != customer_id)
    for row in (await session.execute(query)).all():
        for name, (column, value) in wanted.items():
            if row._mapping[column] == value:
                raise duplicate_problem(row.id, name, location)


async def _company_name_key(session: AsyncSession, company_id: uuid.UUID | None) -> str:
    if company_id is None:
        return ""
    return await session.scalar(select(customers.c.name_key).where(customers.c.id == company_id)) or ""


def stored_values(fields: Mapping[str, Any]) -> dict[str, Any]:
    values = {name: fields[name] for name in FIELDS}
    values.update(derived_columns(fields))
    return values


async def insert_customer(
    session: AsyncSession,
    kind: str,
    fields: Mapping[str, Any],
    *,
    customer_id: uuid.UUID | None = None,
    source: Mapping[str, Any] | None = None,
) -> AnyRow:
    values = stored_values(fields) | {
        "id": customer_id or uuid.uuid4(),
        "kind": kind,
        "source": source,
        "company_name_key": await _company_name_key(session, fields.get("company_id")),
    }
    return (await session.execute(insert(customers).values(**values).returning(*PUBLIC_COLUMNS))).one()


async def update_customer(session: AsyncSession, before: AnyRow, fields: Mapping[str, Any], **extra: Any) -> AnyRow:
    """Write ``fields`` over ``before`` (which the caller has locked), bump the version.

    When a company's name changes, its persons' copy of it (``company_name_key``, which
    makes them findable by their company's name) changes too.
    """
    values = stored_values(fields) | extra
    if fields.get("company_id") != before.company_id:
        values["company_name_key"] = await _company_name_key(session, fields.get("company_id"))
    row = (
        await session.execute(
            update(customers)
            .where(customers.c.id == before.id)
            .values(**values, version=customers.c.version + 1, updated_at=func.now())
            .returning(*PUBLIC_COLUMNS, customers.c.name_key)
        )
    ).one()
    if before.kind == "company" and row.name_key != before.name_key:
        await session.execute(
            update(customers).where(customers.c.company_id == before.id).values(company_name_key=row.name_key)
        )
    return row


def _mapping(row: AnyRow | Mapping[str, Any]) -> Mapping[Any, Any]:
    if isinstance(row, Row):
        return row._mapping
    return row


def registered_event(row: AnyRow | Mapping[str, Any], *, imported: bool = False) -> CustomerRegisteredV1:
    r = _mapping(row)
    return CustomerRegisteredV1(
        customer_id=r["id"],
        kind=r["kind"],
        display_name=r["display_name"],
        email=normalize_email(r["email"]),
        lifecycle_stage=r["lifecycle_stage"],
        registered_at=r["created_at"],
        company_id=r["company_id"],
        owner_id=r["owner_id"],
        tags=list(r["tags"]),
        external_id=r["external_id"],
        imported=imported,
    )


def updated_event(row: AnyRow | Mapping[str, Any], changed: Sequence[str]) -> CustomerUpdatedV1:
    r = _mapping(row)
    return CustomerUpdatedV1(
        customer_id=r["id"],
        changed_fields=list(changed),
        lifecycle_stage=r["lifecycle_stage"],
        tags=list(r["tags"]),
        owner_id=r["owner_id"],
        company_id=r["company_id"],
        version=r["version"],
        updated_at=r["updated_at"],
    )
