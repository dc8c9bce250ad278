"""The customers projection every customer-checking service keeps (``known_customers``).

Each service owns its table (its own database, its own migration); the shape is the same:

    customer_id  uuid PRIMARY KEY
    state        text: active | merged | erased
    merged_into  uuid, the survivor of a merge
    updated_at   timestamptz
    external_id  text, optional (orders' imports find customers by it)

Three writers, safe in any order and on redelivery (the consumer's inbox makes each event
apply once; these statements make a replay converge anyway):

    project_registered   CustomerRegisteredV1: insert ``active``, never overwrite — an
                         erasure or merge seen first, or an earlier look-up, stays
    project_registered_many  the same for a batch of registrations, in one statement
    project_merged       CustomersMergedV1: the survivor is known; the merged id becomes
                         ``merged`` (overwrites), and ids merged into it point at the survivor
    project_erased       CustomerErasedV1: ``erased`` (overwrites)
    record_customer      a look-up answer (customer_directory.py): insert, never overwrite

Only the events overwrite, so a look-up answer never hides a later event.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["project_erased", "project_merged", "project_registered", "project_registered_many", "record_customer"]


async def _insert_if_new(session: AsyncSession, table: Table, values: dict[str, Any]) -> None:
    if "external_id" not in table.c:
        values = {k: v for k, v in values.items() if k != "external_id"}
    await session.execute(insert(table).values(**values).on_conflict_do_nothing(index_elements=["customer_id"]))


async def project_registered(
    session: AsyncSession, table: Table, customer_id: uuid.UUID, external_id: str | None = None
) -> None:
    await _insert_if_new(session, table, {"customer_id": customer_id, "state": "active", "external_id": external_id})


async def project_registered_many(
    session: AsyncSession, table: Table, customers: Sequence[tuple[uuid.UUID, str | None]]
) -> None:
    """``project_registered`` for each (customer id, external id), in one INSERT; the first of a
    customer's registrations wins, as it would one by one (later ones never overwrite)."""
    first: dict[uuid.UUID, str | None] = {}
    for customer_id, external_id in customers:
        first.setdefault(customer_id, external_id)
    if not first:
        return
    with_external_id = "external_id" in table.c
    rows = [
        {"customer_id": customer_id, "state": "active"} | ({"external_id": external_id} if with_external_id else {})
        for customer_id, external_id in first.items()
    ]
    # Executemany of one statement (one multi-row INSERT on the wire): no per-batch compile.
    await session.execute(insert(table).on_conflict_do_nothing(index_elements=["customer_id"]), rows)


async def project_merged(session: AsyncSession, table: Table, survivor: uuid.UUID, merged: uuid.UUID) -> None:
    await _insert_if_new(session, table, {"customer_id": survivor, "state": "active"})
    changes: dict[str, Any] = {"state": "merged", "merged_into": survivor, "updated_at": func.now()}
    if "external_id" in table.c:
        changes["external_id"] = None
    await session.execute(
        insert(table)
        .values(customer_id=merged, state="merged", merged_into=survivor)
        .on_conflict_do_update(index_elements=["customer_id"], set_=changes)
    )
    # Customers merged into the merged one earlier now point at the survivor directly.
    await session.execute(
        update(table).where(table.c.merged_into == merged).values(merged_into=survivor, updated_at=func.now())
    )


async def project_erased(session: AsyncSession, table: Table, customer_id: uuid.UUID) -> None:
    changes: dict[str, Any] = {"state": "erased", "updated_at": func.now()}
    if "external_id" in table.c:
        changes["external_id"] = None
    await session.execute(
        insert(table)
        .values(customer_id=customer_id, state="erased")
        .on_conflict_do_update(index_elements=["customer_id"], set_=changes)
    )


async def record_customer(
    session: AsyncSession, table: Table, customer_id: uuid.UUID, state: str, external_id: str | None
) -> None:
    """Record what the customers service answered, unless an event has written the row meanwhile."""
    await _insert_if_new(session, table, {"customer_id": customer_id, "state": state, "external_id": external_id})
