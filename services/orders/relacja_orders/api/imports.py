"""Historical import: ``POST /api/v1/orders/imports`` with a CSV or NDJSON body.

    POST /api/v1/orders/imports        text/csv or application/x-ndjson → 202 + the finished job
    GET  /api/v1/orders/imports/{id}   the job: status, counters, row errors (progress while it runs)
    GET  /api/v1/orders/imports        the jobs, newest first (cursor-paginated)

The row format is in ``domain.imports``. The body is streamed through an incremental
reader: memory holds one batch, never the body. Every :data:`BATCH_SIZE` valid rows are
written in one transaction, together with the job's counters (so ``GET`` on the job shows
committed progress) and their events. The request parses and prices the next batch
(``_price``: customers and SKUs looked up on a connection of its own) while a writer
task writes the previous one, so Python and PostgreSQL work side by side.

A batch is priced and written set-based: its customers resolved with one query
(``customer_external_id`` → the customers projection; an unknown, merged or erased
customer is a row error, never a guess), its orders COPYed (``copy_records_to_table``)
into a temporary staging table and moved with one ``INSERT ... SELECT ... ON CONFLICT
(external_id) DO UPDATE ... WHERE <something differs>``, which upserts by the order's
external id and skips unchanged rows; the same statement writes one
``OrderPlacedV1(imported=true)`` outbox row per created or changed order from the upserted
rows (``bulk_events``: built by PostgreSQL, set-based). Re-running a file therefore changes and emits
nothing. Rows without ``external_id`` are always new orders. A live (not imported) order is
never overwritten.

Neither is an imported order that has changed in Relacja since (paid, delivered,
cancelled, returned): overwriting it would undo those facts — reset returned quantities,
so that goods could be returned twice. Each imported order keeps the fingerprint of the
row it was imported from and the version that import wrote (``import_fingerprint``,
``imported_version``). A row equal to the one imported is unchanged, whatever happened
since; a row that differs updates the order only if its version is still the imported
one, and is otherwise a row error naming the order.

A body that cannot be read (not UTF-8, an unterminated quoted field, a cut upload) stops
the job with status ``failed`` and ``failure`` saying why; committed batches stay, and
running the import again completes it. Bad rows are counted and reported
(``errors``: row, field, message; the first :data:`MAX_ERRORS`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import ClientDisconnect

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

from ..bulk_events import placed_events_insert
from ..domain.imports import ImportFormatError, ImportRow, RecordReader, build_order, csv_header_errors, parse_row
from ..tables import IMPORTED_FIELDS, import_fingerprint_sql, order_imports
from .common import PROBLEM, not_found

__all__ = ["router", "IMPORTS_PATH", "BATCH_SIZE", "MAX_ERRORS"]

IMPORTS_PATH = "/api/v1/orders/imports"
router = APIRouter(prefix=IMPORTS_PATH, tags=["imports"])  # no RequireJson: the bodies are CSV / NDJSON

BATCH_SIZE = 5000



@dataclass
class _Batch:
    rows: list[tuple[int, ImportRow]] = field(default_factory=list)
    external_ids: set[str] = field(default_factory=set)
    read: int = 0  # rows read (valid or not) since the previous batch
    failed: list[tuple[int, list[dict[str, str]]]] = field(default_factory=list)
    staged: list[tuple[Any, ...]] = field(default_factory=list)  # priced orders, as COPY records
    row_numbers: dict[str, int] = field(default_factory=dict)  # external id → row number, for row errors




async def _csv_header(records: AsyncIterator[tuple[int, Any]]) -> list[str]:
    try:
        first = await anext(records, None)
    except ImportFormatError as err:
        raise Problem(400, "Unreadable body", str(err), type_="malformed-body") from None
    if first is None:
        raise Problem(422, "Validation failed", "The CSV body has no header row.", type_="validation-error",
                      errors=[{"field": "header", "message": "missing"}])
    header = [name.strip() for name in first[1]]
    errors = csv_header_errors(header)
    if errors:
        raise Problem(422, "Validation failed", "The CSV header is not valid.", type_="validation-error", errors=errors)
    return header


@router.post(
    "",
    status_code=202,
    response_model=ImportJobPublic,
    summary="Import historical orders from CSV or NDJSON (streamed; upsert by external_id)",
    openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}},
                                                                  "application/x-ndjson": {"schema": {"type": "string"}}}}},
    responses={415: {"description": "Not CSV or NDJSON", **PROBLEM}, 422: {"description": "A CSV header with unknown or missing columns", **PROBLEM}},
)
async def import_orders(request: Request, session: SessionDep) -> JSONResponse:
    fmt = import_format(request.headers.get("content-type"))
    records = request_records(RecordReader(fmt), request)
    header = await _csv_header(records) if fmt == "csv" else None
    job = ImportProgress(id=uuid.uuid4())
    async with session.begin():
        await session.execute(insert(order_imports).values(id=job.id, status="running", format=fmt))
    writer = BatchWriter(job)
    sessions = request.app.state.database.sessions  # a second connection: pricing looks up while a batch is written
    batch = _Batch()
    failure: str | None = None
    try:
        try:
            async for number, record in records:
                batch.read += 1
                row, errors = parse_row(header, record)
                if row is None:
                    batch.failed.append((number, errors))
                    continue
                if len(batch.rows) >= BATCH_SIZE or (row.external_id is not None and row.external_id in batch.external_ids):
                    await _price(sessions, batch)
                    await writer.submit(partial(_write_batch, session, batch))
                    batch = _Batch()
                batch.rows.append((number, row))
                if row.external_id is not None:
                    batch.external_ids.add(row.external_id)
        except ImportFormatError as err:
            failure = str(err)
        except ClientDisconnect:
            failure = "the upload was interrupted before the body ended"
        await _price(sessions, batch)
        await writer.submit(partial(_write_batch, session, batch))
        job = await writer.wait()
    except BaseException:
        await writer.abort()
        await _finish(session, writer.job, "failed", "the import stopped on a server error; run it again to complete it")
        raise
    row = await _finish(session, job, "failed" if failure else "completed", failure)
    public = ImportJobPublic.from_row(row)
    return JSONResponse(public.model_dump(mode="json"), status_code=202, headers={"Location": f"{IMPORTS_PATH}/{job.id}"})


async def _finish(session: AsyncSession, job: ImportProgress, status: str, failure: str | None) -> Any:
    async with session.begin():
        return (await session.execute(
            update(order_imports).where(order_imports.c.id == job.id)
            .values(**job.columns(), status=status, failure=failure, finished_at=func.now()).returning(*order_imports.c)
        )).one()


@router.get("/{import_id}", response_model=ImportJobPublic, summary="An import job: status, counters and row errors",
            responses={404: {"description": "No such import", **PROBLEM}})
async def get_import(import_id: uuid.UUID, session: SessionDep) -> ImportJobPublic:
    row = (await session.execute(select(order_imports).where(order_imports.c.id == import_id))).first()
    if row is None:
        raise not_found("Import", import_id)
    return ImportJobPublic.from_row(row)


@router.get("", response_model=ImportJobsPublic, summary="Import jobs, newest first (cursor-paginated)")
async def list_imports(session: SessionDep, limit: LimitParam = DEFAULT_LIMIT, cursor: CursorParam = None) -> Any:
    return await paginate(
        session, select(order_imports), keys=[order_imports.c.started_at, order_imports.c.id], limit=limit, cursor=cursor,
        descending=True, sort="-started_at", to_item=ImportJobPublic.from_row,
    )


# -- writing batches ------------------------------------------------------------------------


_STAGE_COLUMNS = [
    "id", "external_id", "customer_id", "status", "channel", "currency", "placed_at", "gross_amount", "tax_amount",
    "total_amount", "returned_amount", "refunded_amount", "net_amount", "cost_amount", "margin", "lines",
]
_COMPARED = [c for c in _STAGE_COLUMNS if c not in ("id", "external_id")]
assert tuple(_COMPARED) == IMPORTED_FIELDS  # what the fingerprint covers is what an import writes


_CREATE_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS order_import_stage (
    id uuid, external_id text, customer_id uuid, status text, channel text, currency text, placed_at timestamptz,
    gross_amount numeric(18, 4), tax_amount numeric(18, 4), total_amount numeric(18, 4), returned_amount numeric(18, 4),
    refunded_amount numeric(18, 4), net_amount numeric(18, 4), cost_amount numeric(18, 4), margin numeric(18, 4), lines jsonb
) ON COMMIT DELETE ROWS
"""

# One statement: upsert the staged orders, write the OrderPlacedV1 outbox rows of those
# created or changed (bulk_events), and count them.
_UPSERT = f"""
WITH written AS (
    INSERT INTO orders ({", ".join(_STAGE_COLUMNS)}, imported, import_fingerprint, imported_version, created_at, updated_at)
    SELECT {", ".join(_STAGE_COLUMNS)}, true, {import_fingerprint_sql("s")}, 1, $1, $1 FROM order_import_stage AS s
    ON CONFLICT (external_id) DO UPDATE SET
        {", ".join(f"{c} = EXCLUDED.{c}" for c in _COMPARED)}, version = orders.version + 1,
        import_fingerprint = EXCLUDED.import_fingerprint, imported_version = orders.version + 1, updated_at = $1
    WHERE orders.imported
      AND orders.import_fingerprint IS DISTINCT FROM EXCLUDED.import_fingerprint
      AND orders.version = orders.imported_version
    RETURNING orders.*, (xmax = 0) AS inserted
), events AS (
    {placed_events_insert("written")}
)
SELECT count(*) FILTER (WHERE inserted) AS created, count(*) AS written FROM written
"""

# Rows the upsert left alone because their order changed in Relacja since it was imported.
_CHANGED_SINCE_IMPORT = f"""
SELECT s.external_id, o.number FROM order_import_stage AS s JOIN orders AS o ON o.external_id = s.external_id
WHERE o.imported AND o.version <> o.imported_version AND o.import_fingerprint IS DISTINCT FROM {import_fingerprint_sql("s")}
"""

_CUSTOMERS = """
SELECT DISTINCT ON (external_id) external_id, customer_id FROM known_customers
WHERE external_id = ANY($1::text[]) AND state = 'active' ORDER BY external_id, updated_at DESC
"""


async def _price(sessions: Any, batch: _Batch) -> None:
    """Resolve the batch's customers and SKUs and price its rows into COPY records (rows
    that cannot be priced join ``batch.failed``): the batch's Python work, done by the
    request while the writer task waits for PostgreSQL to write the previous batch."""
    if not batch.rows:
        return
    async with sessions() as lookup:
        connection = (await (await lookup.connection()).get_raw_connection()).driver_connection
        customers = {
            r["external_id"]: r["customer_id"]
            for r in await connection.fetch(_CUSTOMERS, list({row.customer_external_id for _, row in batch.rows}))
        }
        skus = list({line.sku for _, row in batch.rows for line in row.lines})
        catalog = {r["sku"]: (r["id"], r["category"]) for r in await connection.fetch("SELECT id, sku, category FROM products WHERE sku = ANY($1::text[])", skus)} if skus else {}
    for number, row in batch.rows:
        customer_id = customers.get(row.customer_external_id)
        if customer_id is None:
            batch.failed.append((number, [{"field": "customer_external_id",
                                           "message": f"no active customer with external id {row.customer_external_id!r} is known; the row was not imported"}]))
            continue
        built = build_order(row, catalog)
        if isinstance(built, list):
            batch.failed.append((number, built))
            continue
        built["id"], built["customer_id"], built["lines"] = uuid.uuid4(), customer_id, json.dumps(built["lines"])
        batch.staged.append(tuple(built[c] for c in _STAGE_COLUMNS))
        if row.external_id is not None:
            batch.row_numbers[row.external_id] = number


async def _write_batch(session: AsyncSession, batch: _Batch, committed: ImportProgress) -> ImportProgress:
    """Write ``batch`` (priced) and the job's counters in one transaction; the job after it."""
    job = committed.copy()
    job.rows_total += batch.read
    reported = len(job.errors)
    for number, errors in sorted(batch.failed, key=lambda failed: failed[0]):
        job.fail(number, errors)
    async with session.begin():
        if batch.staged:
            # A statement through the session first: it opens the transaction on the
            # connection, which the raw driver calls below then run inside.
            now = await session.scalar(select(func.now()))
            connection = (await (await session.connection()).get_raw_connection()).driver_connection
            await _upsert(connection, job, batch, now)
        job.errors[reported:] = sorted(job.errors[reported:], key=lambda error: error["row"])  # stable: a row's errors keep their order
        await session.execute(update(order_imports).where(order_imports.c.id == job.id).values(**job.columns()))
    return job


async def _upsert(connection: Any, job: ImportProgress, batch: _Batch, now: datetime) -> None:
    await connection.execute(_CREATE_STAGE)
    await connection.copy_records_to_table("order_import_stage", columns=_STAGE_COLUMNS, records=batch.staged)
    counts = await connection.fetchrow(_UPSERT, now, current_traceparent.get())
    kept = await connection.fetch(_CHANGED_SINCE_IMPORT)
    for order in kept:
        job.fail(batch.row_numbers[order["external_id"]], [{
            "field": "external_id",
            "message": f"order {order['number']} has changed in Relacja since it was imported (paid, delivered, cancelled "
                       "or returned); the row was not applied, so that those changes are not undone",
        }])
    job.rows_created += counts["created"]
    job.rows_updated += counts["written"] - counts["created"]
    job.rows_unchanged += len(batch.staged) - counts["written"] - len(kept)
