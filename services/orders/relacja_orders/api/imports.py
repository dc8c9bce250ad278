"""Historical import, HTTP only: ``POST /api/v1/orders/imports`` with a CSV or NDJSON body.

    POST /api/v1/orders/imports        text/csv or application/x-ndjson → 202 + the finished job
    GET  /api/v1/orders/imports/{id}   the job: status, counters, row errors (progress while it runs)
    GET  /api/v1/orders/imports        the jobs, newest first (cursor-paginated)

The row format is in ``domain.imports``, the use case (pricing and writing batches) in
``app.imports``, the job's lifecycle and error policy in ``relacja_servicekit.import_jobs``.
The body is streamed through an incremental reader: memory holds one batch, never the body.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from relacja_servicekit import SessionDep
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
from .problems import app_errors

__all__ = ["router", "IMPORTS_PATH"]

IMPORTS_PATH = "/api/v1/orders/imports"
router = APIRouter(prefix=IMPORTS_PATH, tags=["imports"])  # no RequireJson: the bodies are CSV / NDJSON


@router.post(
    "",
    status_code=202,
    response_model=ImportJobPublic,
    summary="Import historical orders from CSV or NDJSON (streamed; upsert by external_id)",
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
        {422: "A CSV header with unknown, repeated or missing columns"},
        {
            500: "The server failed the import (import-failed): the job is failed, the batches before stay; Location names it"
        },
    ),
)
async def import_orders(request: Request) -> JSONResponse:
    fmt = import_format(request.headers.get("content-type"))
    records = request_records(RecordReader(fmt), request)
    return await accepted_import(IMPORTS_PATH, imports.import_orders(request.app.state.database.sessions, fmt, records))


@router.get(
    "/{import_id}",
    response_model=ImportJobPublic,
    summary="An import job: status, counters and row errors",
    responses=problem_responses({404: "No such import"}),
)
async def get_import(import_id: uuid.UUID, session: SessionDep) -> ImportJobPublic:
    with app_errors():
        row = await imports.get_import(session, import_id)
    return ImportJobPublic.from_row(row)


@router.get("", response_model=ImportJobsPublic, summary="Import jobs, newest first (cursor-paginated)")
async def list_imports(session: SessionDep, limit: LimitParam = DEFAULT_LIMIT, cursor: CursorParam = None) -> Any:
    return await imports.list_imports(session, limit=limit, cursor=cursor)
