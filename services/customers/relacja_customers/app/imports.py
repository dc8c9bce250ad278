"""The bulk import of customers: what its rows become, on the shared import lifecycle.

    import_customers(sessions, format, records)  run an import → the finished job row
    get_import(session, id) / list_imports(...)  the jobs
    CustomerRows                                 the rows' part of the lifecycle
                                                 (relacja_servicekit.import_jobs.ImportJob)

The lifecycle (header check, batches of :data:`BATCH_SIZE` valid rows each committed with
the job's counters, row errors, the final state, the error policy) is
``relacja_servicekit.import_jobs``. What is the customers' own:

Each row is a merge patch (RFC 7396) of the customer with its ``external_id``: columns or
keys present set the field, absent ones are left alone, so importing the same file twice
changes nothing the second time. A batch is one transaction that writes the customers,
their events (``CustomerRegisteredV1(imported=True)`` for a new customer — built by
PostgreSQL from the COPYed rows, see ``_REGISTERED`` —, ``CustomerUpdatedV1`` for a
changed one, nothing for an unchanged one) and the job's counters. A row that fails validation, or whose e-mail or phone belongs to another
customer, is a row error; the other rows are kept. A unique violation means a concurrent
writer took an e-mail, phone or external id between the batch's checks and its writes:
the lifecycle then writes the batch row by row (``concurrent_conflicts``), so only the
conflicting row fails.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator, Hashable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from pydantic import ValidationError
from sqlalchemy import Text, any_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from relacja_contracts import EventPayload
from relacja_contracts.events import CustomerRegisteredV1
from relacja_messaging import Outbox
from relacja_messaging.driver import asyncpg_connection
from relacja_messaging.outbox import payload_time_sql
from relacja_messaging.tracing import current_traceparent
from relacja_servicekit.import_jobs import (
    ImportJob,
    ImportJobPublic,
    ImportJobTable,
    ImportProgress,
    RowErrors,
    RowImport,
)
from relacja_servicekit.import_records import Format, row_errors
from relacja_servicekit.pagination import Page, paginate

from ..domain.customer import FIELDS, apply_changes, changed_fields, check_fields
from ..domain.imports import csv_columns, csv_row
from ..domain.lifecycle import can_move
from ..settings import EVENT_SOURCE
from ..tables import customer_imports, customers
from .records import fields_of, stored_values, updated_event
from .schemas import CustomerImportRow, changes_of

__all__ = ["BATCH_SIZE", "CustomerRows", "import_customers", "get_import", "list_imports"]

log = logging.getLogger(__name__)

_outbox = Outbox(EVENT_SOURCE)

BATCH_SIZE = 1000

_Item = tuple[int, CustomerImportRow]  # the row number and the row


class CustomerRows(RowImport[CustomerImportRow, CustomerImportRow]):
    """Customer rows: merge patches upserted by ``external_id``."""

    batch_size = BATCH_SIZE
    concurrent_conflicts = (IntegrityError, asyncpg.UniqueViolationError)

    def check_header(self, header: list[str]) -> RowErrors:
        return csv_columns(header)

    def parse(self, header: list[str] | None, record: Any) -> tuple[CustomerImportRow | None, RowErrors]:
        try:
            if header is None:  # an NDJSON line: pydantic parses and validates the JSON in one pass
                return CustomerImportRow.model_validate_json(record), []
            data, errors = csv_row(header, record)
            if errors:
                return None, errors
            return CustomerImportRow.model_validate(data), []
        except ValidationError as err:
            return None, row_errors(err)

    def key(self, row: CustomerImportRow) -> Hashable:
        return row.external_id

    async def write(self, session: AsyncSession, items: list[_Item], job: ImportProgress) -> None:
        await _write(session, job, items)


async def import_customers(
    sessions: async_sessionmaker[AsyncSession], format: Format, records: AsyncIterator[tuple[int, Any]]
) -> Any:
    """Run an import of ``records`` → the finished job row (see ``ImportJob.run``)."""
    return await ImportJob(CustomerRows(), ImportJobTable(customer_imports, sessions)).run(format, records)


async def get_import(session: AsyncSession, import_id: uuid.UUID) -> Any:
    """The job row, or None."""
    return (await session.execute(select(customer_imports).where(customer_imports.c.id == import_id))).first()


async def list_imports(session: AsyncSession, *, limit: int, cursor: str | None) -> Page[ImportJobPublic]:
    """The jobs, newest first."""
    return await paginate(
        session,
        select(customer_imports),
        keys=[customer_imports.c.started_at, customer_imports.c.id],
        limit=limit,
        cursor=cursor,
        descending=True,
        sort="-started_at",
        to_item=ImportJobPublic.from_row,
    )


# -- writing a batch ------------------------------------------------------------------------


@dataclass
class _Candidate:
    item: _Item  # (row number, row)
    kind: str
    fields: dict[str, Any]
    before: Any = None  # the existing row, for an update
    changed: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stored = stored_values(self.fields)  # the fields and their derived keys, computed once


def _prepare(item: _Item, before: Any) -> _Candidate | list[dict[str, str]] | None:
    """What the row does to the customer ``before`` (None: a new one): the write to make,
    its errors, or None when it changes nothing."""
    data = item[1]
    changes, kind = changes_of(data), data.kind
    if before is None:
        kind = kind or "person"
        fields = apply_changes(kind, {}, {"lifecycle_stage": "lead", **changes})
        return check_fields(kind, fields) or _Candidate(item, kind, fields)
    if kind is not None and kind != before.kind:
        return [{"field": "kind", "message": f"cannot change from {before.kind}"}]
    current = fields_of(before)
    fields = apply_changes(before.kind, current, changes)
    changed = changed_fields(current, fields)
    if not changed:
        return None
    errors = check_fields(before.kind, fields)
    if not can_move(current["lifecycle_stage"], fields["lifecycle_stage"]):
        errors.append(
            {
                "field": "lifecycle_stage",
                "message": f"cannot move from {current['lifecycle_stage']} to {fields['lifecycle_stage']}",
            }
        )
    return errors or _Candidate(item, before.kind, fields, before, changed)


def _any(values: list[Any]) -> Any:
    return any_(bindparam(None, values, type_=ARRAY(Text)))


async def _write(session: AsyncSession, job: ImportProgress, items: list[_Item]) -> None:
    now = await session.scalar(select(func.now()))
    existing = {
        row.external_id: row
        for row in (
            await session.execute(
                select(*customers.c)
                .where(customers.c.external_id == _any([data.external_id for _, data in items]))
                .order_by(customers.c.id)
                .with_for_update()
            )
        ).all()
    }
    candidates: list[_Candidate] = []
    for item in items:
        prepared = _prepare(item, existing.get(item[1].external_id))
        if prepared is None:
            job.rows_unchanged += 1
        elif isinstance(prepared, list):
            job.fail(item[0], prepared)
        else:
            candidates.append(prepared)

    candidates = await _check_companies(session, candidates, job)
    candidates = await _check_unique(session, candidates, job)

    new = [c for c in candidates if c.before is None]
    changed = [c for c in candidates if c.before is not None]
    companies = await _company_keys(session, candidates)
    created_rows = [
        c.stored
        | {
            "id": uuid.uuid4(),
            "kind": c.kind,
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "company_name_key": companies.get(c.fields["company_id"], ""),
        }
        for c in new
    ]
    await _copy(session, "customers", _CUSTOMER_COLUMNS, created_rows)
    updated_rows = [
        c.stored
        | {
            "b_id": c.before.id,
            "version": c.before.version + 1,
            "updated_at": now,
            "company_name_key": companies.get(c.fields["company_id"], "")
            if c.fields["company_id"] != c.before.company_id
            else c.before.company_name_key,
        }
        for c in changed
    ]
    if updated_rows:
        columns = [*FIELDS, "email_normalized", "name_key", "search_text", "company_name_key", "version", "updated_at"]
        await session.execute(
            update(customers)
            .where(customers.c.id == bindparam("b_id"))
            .values({name: bindparam(name) for name in columns}),
            updated_rows,
        )
        renamed = [
            {"b_company": c.before.id, "company_name_key": stored["name_key"]}
            for c, stored in zip(changed, updated_rows, strict=True)
            if c.kind == "company" and stored["name_key"] != c.before.name_key
        ]
        if renamed:
            await session.execute(
                update(customers)
                .where(customers.c.company_id == bindparam("b_company"))
                .values(company_name_key=bindparam("company_name_key")),
                renamed,
            )
    if created_rows:
        connection = await asyncpg_connection(session)
        await connection.execute(_REGISTERED, now, current_traceparent.get(), [row["id"] for row in created_rows])
    events: list[EventPayload] = [
        updated_event(row | {"id": row["b_id"]}, c.changed) for c, row in zip(changed, updated_rows, strict=True)
    ]
    await _emit_all(session, events)
    job.rows_created += len(new)
    job.rows_updated += len(changed)


async def _check_companies(
    session: AsyncSession, candidates: list[_Candidate], job: ImportProgress
) -> list[_Candidate]:
    wanted = {
        c.fields["company_id"]
        for c in candidates
        if c.fields["company_id"] is not None and (c.before is None or c.before.company_id != c.fields["company_id"])
    }
    if not wanted:
        return candidates
    found = set(
        (
            await session.scalars(
                select(customers.c.id).where(
                    customers.c.id.in_(wanted), customers.c.kind == "company", customers.c.erased_at.is_(None)
                )
            )
        ).all()
    )
    kept = []
    for c in candidates:
        if c.fields["company_id"] in wanted and c.fields["company_id"] not in found:
            job.fail(c.item[0], [{"field": "company_id", "message": "not the id of a customer of kind company"}])
        else:
            kept.append(c)
    return kept


async def _company_keys(session: AsyncSession, candidates: list[_Candidate]) -> dict[uuid.UUID, str]:
    ids = {c.fields["company_id"] for c in candidates if c.fields["company_id"] is not None}
    if not ids:
        return {}
    rows = await session.execute(select(customers.c.id, customers.c.name_key).where(customers.c.id.in_(ids)))
    return {row.id: row.name_key for row in rows}


async def _check_unique(session: AsyncSession, candidates: list[_Candidate], job: ImportProgress) -> list[_Candidate]:
    """Drop candidates whose e-mail or phone belongs to another customer (or to an earlier row of the batch)."""
    emails = [e for c in candidates if (e := c.stored["email_normalized"])]
    phones = [c.fields["phone"] for c in candidates if c.fields["phone"]]
    owners: dict[tuple[str, str], Any] = {}
    if emails or phones:
        rows = await session.execute(
            select(customers.c.id, customers.c.email_normalized, customers.c.phone).where(
                (customers.c.email_normalized == _any(emails)) | (customers.c.phone == _any(phones))
            )
        )
        for row in rows:
            owners[("email", row.email_normalized)] = row.id
            owners[("phone", row.phone)] = row.id
    kept = []
    for c in candidates:
        me = c.before.id if c.before is not None else c.item[1].external_id
        keys = [("email", c.stored["email_normalized"]), ("phone", c.fields["phone"])]
        taken = [name for name, value in keys if value is not None and owners.get((name, value), me) != me]
        if taken:
            job.fail(c.item[0], [{"field": name, "message": "already used by another customer"} for name in taken])
            continue
        for name, value in keys:
            if value is not None:
                owners[(name, value)] = me
        kept.append(c)
    return kept


# The new customers' CustomerRegisteredV1(imported=true) events, built by PostgreSQL from the
# rows just COPYed — the outbox row and the event-log row of each in one statement —
# instead of an envelope, two JSON encodings and two COPY records per customer in Python
# (~45 µs of the ~110 µs of Python per imported row, docs/benchmarks.md §19). The payload
# is ``records.registered_event``'s (tests/integration/customers/test_master_imports.py
# compares them). $1 = the batch's time, $2 = traceparent, $3 = the new customers' ids.
_REGISTERED_PAYLOAD = ", ".join(
    [
        "'customer_id', c.id::text",
        "'kind', c.kind",
        "'display_name', c.display_name",
        "'email', c.email_normalized",  # = normalize_email(email), as registered_event writes it
        "'lifecycle_stage', c.lifecycle_stage",
        f"'registered_at', {payload_time_sql('c.created_at')}",
        "'company_id', c.company_id::text",
        "'owner_id', c.owner_id",
        "'tags', to_jsonb(c.tags)",
        "'external_id', c.external_id",
        "'imported', true",
    ]
)
_REGISTERED_ROWS = (
    f"SELECT c.id AS subject, jsonb_build_object({_REGISTERED_PAYLOAD}) AS payload "
    "FROM customers AS c WHERE c.id = ANY($3::uuid[])"
)
_REGISTERED = f"""
WITH written AS (
    {_outbox.insert_select_sql(CustomerRegisteredV1, _REGISTERED_ROWS, time="$1", traceparent="$2")}
    RETURNING event_id, key, event_type, payload
)
INSERT INTO customer_event_log (event_id, customer_id, event_type, occurred_at, payload)
SELECT event_id, key::uuid, event_type, $1, payload FROM written
"""


async def _emit_all(session: AsyncSession, payloads: list[EventPayload]) -> None:
    """``events.emit`` for many events at once: the outbox rows (``Outbox.add_many``) and
    the event-log rows COPYed, instead of two statements per event."""
    written = await _outbox.add_many(session, payloads)
    log_rows = [
        (uuid.UUID(w.event.id), uuid.UUID(w.event.subject), w.event.type, w.event.time, w.payload_json) for w in written
    ]
    await _copy_records(
        session, "customer_event_log", ["event_id", "customer_id", "event_type", "occurred_at", "payload"], log_rows
    )


# Every stored column but the generated search_document, in COPY order. An imported customer
# is neither erased nor a partner's lead, so erased_at and source stay NULL.
_CUSTOMER_COLUMNS = [c.name for c in customers.c if c.computed is None and c.name not in ("erased_at", "source")]
_JSON_COLUMNS = {"addresses", "custom_attributes"}


async def _copy(session: AsyncSession, table: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
    records = [tuple(json.dumps(row[c]) if c in _JSON_COLUMNS else row[c] for c in columns) for row in rows]
    await _copy_records(session, table, columns, records)


async def _copy_records(session: AsyncSession, table: str, columns: list[str], records: list[tuple[Any, ...]]) -> None:
    """COPY ``records`` into ``table`` on the session's connection, inside its transaction.

    The measured alternative, an executemany INSERT through SQLAlchemy, took two to four
    times as long (100–220 ms against 48 ms for 1,000 customers; parameter processing
    per value). The transaction is already
    open: the batch's first statement went through the session. A unique violation is
    raised as ``asyncpg.UniqueViolationError`` (the driver's own), handled like
    ``IntegrityError`` (``CustomerRows.concurrent_conflicts``).
    """
    if not records:
        return
    connection = await asyncpg_connection(session)
    await connection.copy_records_to_table(table, records=records, columns=columns)
