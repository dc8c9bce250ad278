"""Bulk import, HTTP only: ``POST /api/v1/customers/imports`` with a CSV or NDJSON body.

    POST /api/v1/customers/imports        text/csv or application/x-ndjson → 202 + the job
    GET  /api/v1/customers/imports/{id}   the job: status, counters, row errors
    GET  /api/v1/customers/imports        the jobs, newest first (cursor-paginated)

The row format is in ``domain.imports``, the use case (upserting batches by
``external_id``) in ``app.imports``, the job's lifecycle and error policy in
``relacja_servicekit.import_jobs``. The body is streamed (``request.stream()``) through an
incremental reader: memory holds one batch, never the body. Each batch commits with the
job's counters, so other clients can follow the job (``GET /imports`` lists running jobs)
while the upload goes on; the response comes when the body is consumed: 202 with the
finished job. (Processing in the request, rather than spooling the body for a background
worker, keeps one copy of the data and makes the client's upload speed the natural
back-pressure.)

Re-running is the way to retry, so ``Idempotency-Key`` is not needed here.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.import_jobs import (
    ImportJobPublic,
    ImportJobsPublic,
    accepted_import,
    import_format,
    request_records,
)
from relacja_servicekit.import_records import RecordReader
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam

from ..app import imports

__all__ = ["router", "IMPORTS_PATH"]

IMPORTS_PATH = "/api/v1/customers/imports"
router = APIRouter(prefix=IMPORTS_PATH, tags=["imports"])  # no RequireJson: the bodies are CSV / NDJSON


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
    responses=problem_responses(
        {400: "The body cannot be read as its Content-Type (malformed-body)"},
        {415: "Not CSV or NDJSON (UTF-8)"},
        {422: "A CSV header with unknown or repeated columns or without external_id"},
        {
            500: "The server failed the import (import-failed): the job is failed, the batches before stay; Location names it"
        },
    ),
)
async def import_customers(request: Request) -> JSONResponse:
    fmt = import_format(request.headers.get("content-type"))
    records = request_records(RecordReader(fmt), request)
    return await accepted_import(
        IMPORTS_PATH, imports.import_customers(request.app.state.database.sessions, fmt, records)
    )


@router.get(
    "/{import_id}",
    response_model=ImportJobPublic,
    summary="An import job: status, counters and row errors",
    responses=problem_responses({404: "No such import"}),
)
async def get_import(import_id: uuid.UUID, session: SessionDep) -> ImportJobPublic:
    row = await imports.get_import(session, import_id)
    if row is None:
        raise Problem(404, "Import not found", f"No import with id {import_id}.", type_="not-found")
    return ImportJobPublic.from_row(row)


@router.get("", response_model=ImportJobsPublic, summary="Import jobs, newest first (cursor-paginated)")
async def list_imports(session: SessionDep, limit: LimitParam = DEFAULT_LIMIT, cursor: CursorParam = None) -> Any:
    return await imports.list_imports(session, limit=limit, cursor=cursor)
