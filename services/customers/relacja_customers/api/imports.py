"""Bulk import: ``POST /api/v1/customers/imports`` with a CSV or NDJSON body.

    POST /api/v1/customers/imports        text/csv or application/x-ndjson → 202 + the job
    GET  /api/v1/customers/imports/{id}   the job: status, counters, row errors
    GET  /api/v1/customers/imports        the jobs, newest first (cursor-paginated)

How it runs. The body is streamed (``request.stream()``) through an incremental parser
(``domain.imports.RecordReader``): memory holds one batch, never the body. Rows are
upserted by ``external_id`` in batches of :data:`BATCH_SIZE`, each batch one transaction
that writes the customers, their events (``CustomerRegisteredV1(imported=True)`` for a new
customer, ``CustomerUpdatedV1`` for a changed one, nothing for an unchanged one) and the
job's counters — so the job row always agrees with what is committed, and other clients
can follow it (``GET /imports`` lists running jobs) while the upload goes on. The
response comes when the body is consumed: 202 with the finished job. (Processing in the
request, rather than spooling the body for a background worker, keeps one copy of the
data and makes the client's upload speed the natural back-pressure.)

Each row is a merge patch (RFC 7396) of the customer with its ``external_id``: columns
or keys present set the field, absent ones are left alone, so importing the same file
twice changes nothing the second time. A row that fails validation, or whose e-mail or
phone belongs to another customer, is reported in ``errors`` (``{row, field, message}``,
the first :data:`MAX_ERRORS` kept) and skipped; the other rows are kept. A body that
cannot be read (not UTF-8, an unterminated quoted field, an interrupted upload) stops
the job with status ``failed`` and ``failure`` saying why; the batches before it stay
committed, and running the import again completes it.

Re-running is the way to retry, so ``Idempotency-Key`` is not needed here.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import Text, any_, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import ClientDisconnect

from relacja_contracts import CloudEvent, EventPayload
from relacja_messaging import Outbox
from relacja_messaging.tracing import current_traceparent
from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.import_jobs import (
    MAX_ERRORS,
    BatchWriter,
    ImportJobPublic,
    ImportJobsPublic,
    ImportProgress,
    import_format,
    request_records,
)
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, paginate

from ..domain.customer import FIELDS, apply_changes, changed_fields, check_fields
from ..domain.imports import ImportFormatError, RecordReader, csv_columns, csv_row
from ..domain.lifecycle import can_move
from ..settings import EVENT_SOURCE
from ..tables import customer_imports, customers
from .customers import PROBLEM
from .records import fields_of, registered_event, stored_values, updated_event
from .schemas import CustomerImportRow, changes_of

__all__ = ["router", "ImportJobPublic", "BATCH_SIZE", "MAX_ERRORS", "IMPORTS_PATH"]

log = logging.getLogger(__name__)

IMPORTS_PATH = "/api/v1/customers/imports"
router = APIRouter(prefix=IMPORTS_PATH, tags=["imports"])  # no RequireJson: the bodies are CSV / NDJSON

BATCH_SIZE = 1000
_CONFLICT = (IntegrityError, asyncpg.UniqueViolationError)



# -- the job's state in this request ------------------------------------------------------


@dataclass
class _Item:
    row: int
    data: CustomerImportRow


@dataclass
class _Batch:
    items: list[_Item] = field(default_factory=list)
    external_ids: set[str] = field(default_factory=set)

    def add(self, item: _Item) -> None:
        self.items.append(item)
        self.external_ids.add(item.data.external_id)


# -- routes ---------------------------------------------------------------------------------




def _parse(header: list[str] | None, record: Any) -> tuple[CustomerImportRow | None, list[dict[str, str]]]:
    try:
        if header is None:  # an NDJSON line: pydantic parses and validates the JSON in one pass
            return CustomerImportRow.model_validate_json(record), []
        data, errors = csv_row(header, record)
        if errors:
            return None, errors
        return CustomerImportRow.model_validate(data), []
    except ValidationError as err:
        return None, [_row_error(e) for e in err.errors()]


def _row_error(error: Any) -> dict[str, str]:
    if error["type"] == "json_invalid":
        return {"field": "row", "message": "is not valid JSON"}
    if not error["loc"] and error["type"] in ("model_type", "model_attributes_type", "dict_type"):
        return {"field": "row", "message": "is not a JSON object"}
    return {"field": ".".join(str(p) for p in error["loc"]) or "row", "message": error["msg"]}


@router.post(
    "",
    status_code=202,
    response_model=ImportJobPublic,
    summary="Import customers from CSV or NDJSON (streamed; upsert by external_id)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        }
    },
    responses={
        415: {"description": "Not CSV or NDJSON", **PROBLEM},
        422: {"description": "A CSV header with unknown columns or without external_id", **PROBLEM},
    },
)
async def import_customers(request: Request, session: SessionDep) -> JSONResponse:
    fmt = import_format(request.headers.get("content-type"))
    records = request_records(RecordReader(fmt), request)
    header = await _csv_header(records) if fmt == "csv" else None
    writer = BatchWriter(ImportProgress(id=uuid.uuid4()))
    async with session.begin():
        await session.execute(insert(customer_imports).values(id=writer.job.id, status="running", format=fmt))
    batch, tally = _Batch(), ImportProgress(writer.job.id)  # tally: rows read since the last batch was handed over
    failure: str | None = None
    try:
        try:
            async for number, record in records:
                tally.rows_total += 1
                data, errors = _parse(header, record)
                if data is None:
                    tally.fail(number, errors)
                    continue
                if len(batch.items) >= BATCH_SIZE or data.external_id in batch.external_ids:
                    await writer.submit(partial(_flush, session, batch, tally))
                    batch, tally = _Batch(), ImportProgress(writer.job.id)
                batch.add(_Item(number, data))
        except ImportFormatError as err:
            failure = str(err)
        except ClientDisconnect:
            failure = "the upload was interrupted before the body ended"
        await writer.submit(partial(_flush, session, batch, tally))
        job = await writer.wait()
    except Exception:
        await writer.abort()
        await _finish(session, writer.job, "failed", "the import stopped on a server error; run it again to complete it")
        raise
    row = await _finish(session, job, "failed" if failure else "completed", failure)
    public = ImportJobPublic.from_row(row)
    return JSONResponse(public.model_dump(mode="json"), status_code=202, headers={"Location": f"{IMPORTS_PATH}/{job.id}"})


async def _csv_header(records: AsyncIterator[tuple[int, Any]]) -> list[str]:
    try:
        first = await anext(records, None)
    except ImportFormatError as err:
        raise Problem(400, "Unreadable body", str(err), type_="malformed-body") from None
    if first is None:
        raise Problem(
            422, "Validation failed", "The CSV body has no header row.", type_="validation-error",
            errors=[{"field": "header", "message": "missing"}],
        )
    header = [name.strip() for name in first[1]]
    errors = csv_columns(header)
    if errors:
        raise Problem(422, "Validation failed", "The CSV header is not valid.", type_="validation-error", errors=errors)
    return header


async def _finish(session: AsyncSession, job: ImportProgress, status: str, failure: str | None) -> Any:
    async with session.begin():
        return (
            await session.execute(
                update(customer_imports)
                .where(customer_imports.c.id == job.id)
                .values(**job.columns(), status=status, failure=failure, finished_at=func.now())
                .returning(*customer_imports.c)
            )
        ).one()


@router.get(
    "/{import_id}",
    response_model=ImportJobPublic,
    summary="An import job: status, counters and row errors",
    responses={404: {"description": "No such import", **PROBLEM}},
)
async def get_import(import_id: uuid.UUID, session: SessionDep) -> ImportJobPublic:
    row = (await session.execute(select(customer_imports).where(customer_imports.c.id == import_id))).first()
    if row is None:
        raise Problem(404, "Import not found", f"No import with id {import_id}.", type_="not-found")
    return ImportJobPublic.from_row(row)


@router.get("", response_model=ImportJobsPublic, summary="Import jobs, newest first (cursor-paginated)")
async def list_imports(session: SessionDep, limit: LimitParam = DEFAULT_LIMIT, cursor: CursorParam = None) -> Any:
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


# -- writing batches ------------------------------------------------------------------------


async def _flush(session: AsyncSession, batch: _Batch, tally: ImportProgress, committed: ImportProgress) -> ImportProgress:
    """Write ``batch`` and the job's counters (with the rows ``tally`` counted since the
    last batch) in one transaction; the job after it.

    A unique violation means a concurrent writer took an e-mail, phone or external id
    between the batch's checks and its writes: the batch is then written row by row, so
    only the conflicting row fails (and a re-run of the import retries it).
    """
    job = committed.absorbing(tally)
    try:
        return await _write_and_save(session, job, batch.items)
    except _CONFLICT:
        log.info("import %s: batch hit a concurrent change; writing it row by row", job.id)
    for item in batch.items:
        try:
            job = await _write_and_save(session, job, [item])
        except _CONFLICT:
            job.fail(item.row, [{"field": "row", "message": "conflicts with a concurrent change; import it again"}])
    return await _write_and_save(session, job, [])


async def _write_and_save(session: AsyncSession, job: ImportProgress, items: list[_Item]) -> ImportProgress:
    attempt = job.copy()
    async with session.begin():
        if items:
            await _write(session, attempt, items)
        await session.execute(update(customer_imports).where(customer_imports.c.id == job.id).values(**attempt.columns()))
    return attempt


@dataclass
class _Candidate:
    item: _Item
    kind: str
    fields: dict[str, Any]
    before: Any = None  # the existing row, for an update
    changed: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stored = stored_values(self.fields)  # the fields and their derived keys, computed once


def _prepare(item: _Item, before: Any) -> _Candidate | list[dict[str, str]] | None:
    """What the row does to the customer ``before`` (None: a new one): the write to make,
    its errors, or None when it changes nothing."""
    changes, kind = changes_of(item.data), item.data.kind
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
        errors.append({"field": "lifecycle_stage", "message": f"cannot move from {current['lifecycle_stage']} to {fields['lifecycle_stage']}"})
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
                .where(customers.c.external_id == _any([i.data.external_id for i in items]))
                .order_by(customers.c.id)
                .with_for_update()
            )
        ).all()
    }
    candidates: list[_Candidate] = []
    for item in items:
        prepared = _prepare(item, existing.get(item.data.external_id))
        if prepared is None:
            job.rows_unchanged += 1
        elif isinstance(prepared, list):
            job.fail(item.row, prepared)
        else:
            candidates.append(prepared)

    candidates = await _check_companies(session, candidates, job)
    candidates = await _check_unique(session, candidates, job)

    new = [c for c in candidates if c.before is None]
    changed = [c for c in candidates if c.before is not None]
    companies = await _company_keys(session, candidates)
    created_rows = [
        c.stored
        | {"id": uuid.uuid4(), "kind": c.kind, "version": 1, "created_at": now, "updated_at": now,
           "company_name_key": companies.get(c.fields["company_id"], "")}
        for c in new
    ]
    await _copy(session, "customers", _CUSTOMER_COLUMNS, created_rows)
    updated_rows = [
        c.stored
        | {"b_id": c.before.id, "version": c.before.version + 1, "updated_at": now,
           "company_name_key": companies.get(c.fields["company_id"], "") if c.fields["company_id"] != c.before.company_id else c.before.company_name_key}
        for c in changed
    ]
    if updated_rows:
        columns = [*FIELDS, "email_normalized", "name_key", "search_text", "company_name_key", "version", "updated_at"]
        await session.execute(
            update(customers).where(customers.c.id == bindparam("b_id")).values({name: bindparam(name) for name in columns}),
            updated_rows,
        )
        renamed = [
            {"b_company": c.before.id, "company_name_key": stored["name_key"]}
            for c, stored in zip(changed, updated_rows, strict=True)
            if c.kind == "company" and stored["name_key"] != c.before.name_key
        ]
        if renamed:
            await session.execute(
                update(customers).where(customers.c.company_id == bindparam("b_company")).values(company_name_key=bindparam("company_name_key")),
                renamed,
            )
    events: list[EventPayload] = [registered_event(row, imported=True) for row in created_rows]
    events += [updated_event(row | {"id": row["b_id"]}, c.changed) for c, row in zip(changed, updated_rows, strict=True)]
    await _emit_all(session, events)
    job.rows_created += len(new)
    job.rows_updated += len(changed)


async def _check_companies(session: AsyncSession, candidates: list[_Candidate], job: ImportProgress) -> list[_Candidate]:
    wanted = {c.fields["company_id"] for c in candidates if c.fields["company_id"] is not None and (c.before is None or c.before.company_id != c.fields["company_id"])}
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
            job.fail(c.item.row, [{"field": "company_id", "message": "not the id of a customer of kind company"}])
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
        me = c.before.id if c.before is not None else c.item.data.external_id
        keys = [("email", c.stored["email_normalized"]), ("phone", c.fields["phone"])]
        taken = [name for name, value in keys if value is not None and owners.get((name, value), me) != me]
        if taken:
            job.fail(c.item.row, [{"field": name, "message": "already used by another customer"} for name in taken])
            continue
        for name, value in keys:
            if value is not None:
                owners[(name, value)] = me
        kept.append(c)
    return kept


async def _emit_all(session: AsyncSession, payloads: list[EventPayload]) -> None:
    """``events.emit`` for many events at once: the outbox rows and the event-log rows
    COPYed, instead of two statements per event."""
    traceparent = current_traceparent.get()
    outbox_rows, log_rows = [], []
    for payload in payloads:
        event = CloudEvent.for_payload(payload, source=EVENT_SOURCE, traceparent=traceparent)
        row = Outbox.row(event, payload)
        body = json.dumps(row["payload"])
        outbox_rows.append((row["event_id"], row["topic"], row["key"], row["event_type"], json.dumps(row["headers"]), body))
        log_rows.append((row["event_id"], uuid.UUID(event.subject), event.type, event.time, body))
    await _copy_records(session, "outbox_events", ["event_id", "topic", "key", "event_type", "headers", "payload"], outbox_rows)
    await _copy_records(session, "customer_event_log", ["event_id", "customer_id", "event_type", "occurred_at", "payload"], log_rows)


# Every stored column but the generated search_document, in COPY order.
_CUSTOMER_COLUMNS = [c.name for c in customers.c if c.computed is None and c.name not in ("erased_at",)]
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
    ``IntegrityError`` by ``_flush``.
    """
    if not records:
        return
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    await raw.driver_connection.copy_records_to_table(table, records=records, columns=columns)
