"""The customer record: create, read, change, list and search.

    create_customer(session, command)                       → CustomerPublic (CustomerRegisteredV1)
    get_customer(session, id)                               → CustomerPublic, 404 when missing
    patch_customer(session, id, patch, check_version)       → CustomerPublic (CustomerUpdatedV1 if changed)
    explain_create_conflict / explain_patch_conflict        409 naming the duplicate after a lost race
    list_customers(session, CustomerQuery, limit, cursor)   → a page, filtered and searched

Every write changes the row and emits its event in the caller's transaction. A patch
that changes nothing answers the record as it is: no new version, no event.

A unique violation at commit means a concurrent writer took an e-mail, phone or external
id between the checks and the write; the caller's transaction is then lost, so the caller
runs ``explain_*_conflict`` in a new one to answer 409 with the customer that has it.

Search: ``q`` is split into fragments (``domain.customer.search_tokens``) that must all
occur in the customer's names, e-mail, phone digits or — for a person — the company's
name; a trigram GIN index (``pg_trgm``) finds them. Results keep the requested ``sort``
(no relevance ranking), so a search is cursor-paginated exactly like a plain list.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_servicekit import Problem
from relacja_servicekit.pagination import Page, paginate

from ..domain.customer import MIN_SEARCH_TOKEN, apply_changes, changed_fields, like_pattern, search_tokens
from ..events import emit
from ..tables import customers
from ..tables.customers import PUBLIC_COLUMNS
from .records import (
    fields_of,
    insert_customer,
    load_customer,
    not_found,
    public_of,
    registered_event,
    reject_duplicates,
    reject_erased,
    update_customer,
    updated_event,
    validate_record,
)
from .schemas import CustomerCreate, CustomerPatch, CustomerPublic, changes_of

__all__ = [
    "CustomerQuery",
    "create_customer",
    "explain_create_conflict",
    "explain_patch_conflict",
    "get_customer",
    "list_customers",
    "patch_customer",
]


def _new_fields(command: CustomerCreate) -> dict[str, Any]:
    return apply_changes(command.kind, {}, changes_of(command, include_defaults=True))


async def create_customer(session: AsyncSession, command: CustomerCreate) -> CustomerPublic:
    """A new customer (422 invalid, 409 duplicate contact data or external id)."""
    fields = _new_fields(command)
    await validate_record(session, command.kind, fields)
    await reject_duplicates(session, fields)
    row = await insert_customer(session, command.kind, fields)
    await emit(session, registered_event(row))
    return public_of(row)


async def explain_create_conflict(session: AsyncSession, command: CustomerCreate) -> None:
    """409 naming the customer that took the e-mail, phone or external id (after a unique violation)."""
    await reject_duplicates(session, _new_fields(command))


async def get_customer(session: AsyncSession, customer_id: uuid.UUID) -> CustomerPublic:
    """The record as it is, erased ones included (``erased_at`` set); 404 for a merged-away or unknown id."""
    row = (await session.execute(select(*PUBLIC_COLUMNS).where(customers.c.id == customer_id))).first()
    if row is None:
        raise not_found(customer_id)
    return public_of(row)


def _kind_unchanged(before: Any, kind: str | None) -> None:
    if kind is not None and kind != before.kind:
        raise Problem(
            422,
            "Validation failed",
            "A customer's kind cannot change.",
            type_="validation-error",
            errors=[{"field": "body.kind", "message": f"cannot change from {before.kind}"}],
        )


def _patched(before: Any, patch: CustomerPatch) -> tuple[dict[str, Any], dict[str, Any]]:
    current = fields_of(before)
    return current, apply_changes(before.kind, current, changes_of(patch))


async def patch_customer(
    session: AsyncSession, customer_id: uuid.UUID, patch: CustomerPatch, check_version: Callable[[int], None]
) -> CustomerPublic:
    """Apply a JSON merge patch (RFC 7396) to the customer locked for it.

    ``check_version`` sees the current version first (the caller's If-Match check); then
    409 for an erased customer, 422 for a kind change, an invalid record or a lifecycle
    move that is not allowed, 409 for duplicate contact data.
    """
    before = await load_customer(session, customer_id, for_update=True)
    check_version(before.version)
    reject_erased(before)
    _kind_unchanged(before, patch.kind)
    current, fields = _patched(before, patch)
    changed = changed_fields(current, fields)
    if not changed:
        return public_of(before)
    await validate_record(session, before.kind, fields, before=current, customer_id=customer_id)
    await reject_duplicates(session, fields, customer_id=customer_id)
    row = await update_customer(session, before, fields)
    await emit(session, updated_event(row, changed))
    return public_of(row)


async def explain_patch_conflict(session: AsyncSession, customer_id: uuid.UUID, patch: CustomerPatch) -> None:
    """409 naming the customer that took the e-mail, phone or external id the patch sets."""
    before = await load_customer(session, customer_id)
    await reject_duplicates(session, _patched(before, patch)[1], customer_id=customer_id)


@dataclass(frozen=True)
class CustomerQuery:
    """Filters of a list; each one given narrows it (all must hold)."""

    sort: str = "-created_at"  # created_at or display_name, '-' for descending
    q: str | None = None
    tags: list[str] = field(default_factory=list)
    equal: Mapping[str, Any] = field(default_factory=dict)  # column name → value (owner_id, kind, ...)
    created_after: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive


def _search(q: str) -> list[Any]:
    tokens = search_tokens(q)
    if not tokens:
        raise Problem(
            400,
            "Invalid parameter",
            f"A search needs at least one fragment of {MIN_SEARCH_TOKEN} or more characters.",
            type_="invalid-parameter",
            errors=[{"field": "query.q", "message": f"no fragment of at least {MIN_SEARCH_TOKEN} characters"}],
        )
    return [customers.c.search_document.like(like_pattern(token), escape="\\") for token in tokens]


async def list_customers(
    session: AsyncSession, query: CustomerQuery, *, limit: int, cursor: str | None
) -> Page[CustomerPublic]:
    """One page of the customers that are not erased and match ``query`` (400 for a search without a long enough fragment)."""
    conditions: list[ColumnElement[bool]] = [customers.c.erased_at.is_(None)]
    if query.q is not None:
        conditions += _search(query.q)
    if query.tags:
        conditions.append(customers.c.tags.contains(sorted(set(query.tags))))
    conditions += [customers.c[name] == value for name, value in query.equal.items() if value is not None]
    if query.created_after is not None:
        conditions.append(customers.c.created_at >= query.created_after)
    if query.created_before is not None:
        conditions.append(customers.c.created_at < query.created_before)
    key = customers.c.display_name if query.sort.lstrip("-") == "display_name" else customers.c.created_at
    if query.q is not None:
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
        descending=query.sort.startswith("-"),
        sort=query.sort,
        to_item=CustomerPublic.from_row,
    )
