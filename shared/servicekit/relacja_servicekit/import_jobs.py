"""The HTTP side of bulk imports, the same in every service that takes them (customers,
orders): which bodies are accepted, how a job and its row errors look to a client, and
reading a streamed request body record by record.

    import_format(content_type)   "csv" | "ndjson", or 415 naming what is accepted
    request_records(reader, req)  the body's records as the chunks arrive
    ImportJobPublic               the job resource (counters, the first MAX_ERRORS row errors)

What a row means stays in each service; so do its job table and batching.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, computed_field
from starlette.requests import Request

from .import_records import Format, RecordReader
from .models import RowModel
from .problems import Problem

__all__ = [
    "MAX_ERRORS", "MEDIA_TYPES", "BatchWriter", "ImportJobPublic", "ImportJobsPublic", "ImportProgress", "ImportRowError",
    "import_format", "request_records",
]

#: Row errors kept per job; the counters still count every failed row.
MAX_ERRORS = 1000
MEDIA_TYPES: dict[str, Format] = {"text/csv": "csv", "application/x-ndjson": "ndjson", "application/ndjson": "ndjson"}


@dataclass
class ImportProgress:
    """A job's counters and row errors as the importing request knows them. A batch works
    on a ``copy()`` that replaces this one only once its transaction committed, so the
    job row never counts rows that were rolled back."""

    id: uuid.UUID
    rows_total: int = 0
    rows_created: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def fail(self, row: int, errors: list[dict[str, str]]) -> None:
        """Count a failed row; keep its errors while fewer than ``MAX_ERRORS`` are kept."""
        self.rows_failed += 1
        room = max(MAX_ERRORS - len(self.errors), 0)
        self.errors += [{"row": row, **error} for error in errors[:room]]

    def copy(self) -> ImportProgress:
        return dataclasses.replace(self, errors=list(self.errors))

    def absorbing(self, tally: ImportProgress) -> ImportProgress:
        """A copy with the rows read (and failed) that ``tally`` counted."""
        merged = self.copy()
        merged.rows_total += tally.rows_total
        merged.rows_failed += tally.rows_failed
        merged.errors += tally.errors[: max(MAX_ERRORS - len(merged.errors), 0)]
        return merged

    def columns(self) -> dict[str, Any]:
        """The job row's counter columns and errors."""
        counters = ("rows_total", "rows_created", "rows_updated", "rows_unchanged", "rows_failed")
        return {name: getattr(self, name) for name in counters} | {"errors": self.errors}


class BatchWriter:
    """Writes one batch at a time in a task, so the request reads and prices the next batch
    (Python) while the previous one is written (PostgreSQL): the two overlap instead of
    adding up. Batches still commit strictly one after another; ``job`` is the progress as
    committed by the last finished batch.

        writer.submit(lambda job: write_batch(session, job.copy(), batch))
    """

    def __init__(self, job: ImportProgress) -> None:
        self.job = job
        self._task: asyncio.Task[ImportProgress] | None = None

    async def submit(self, write: Callable[[ImportProgress], Awaitable[ImportProgress]]) -> None:
        """Wait for the batch in flight, then start ``write(committed progress)``."""
        job = await self.wait()
        self._task = asyncio.ensure_future(write(job))

    async def wait(self) -> ImportProgress:
        if self._task is not None:
            task, self._task = self._task, None
            self.job = await task
        return self.job

    async def abort(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
            self._task = None


class ImportRowError(BaseModel):
    row: int
    field: str
    message: str


class ImportJobPublic(RowModel):
    id: uuid.UUID
    status: str
    format: str
    rows_total: int
    rows_created: int
    rows_updated: int
    rows_unchanged: int
    rows_failed: int
    errors: list[ImportRowError]
    failure: str | None
    started_at: datetime
    finished_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form; mypy rejects any decorator above @property
    @property
    def rows_imported(self) -> int:
        """Rows that created or changed a record."""
        return self.rows_created + self.rows_updated

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form; mypy rejects any decorator above @property
    @property
    def errors_truncated(self) -> bool:
        return len(self.errors) < self.rows_failed and len(self.errors) >= MAX_ERRORS


class ImportJobsPublic(BaseModel):
    items: list[ImportJobPublic]
    next_cursor: str | None


def import_format(content_type: str | None) -> Format:
    media_type, _, params = (content_type or "").partition(";")
    fmt = MEDIA_TYPES.get(media_type.strip().lower())
    charset = params.strip().lower().removeprefix("charset=").strip('"') if "charset=" in params.lower() else "utf-8"
    if fmt is None or charset not in ("utf-8", "utf8"):
        raise Problem(
            415,
            detail=f"Content-Type {content_type or '(none)'} is not supported here; send text/csv or application/x-ndjson (UTF-8).",
            type_="unsupported-media-type",
            headers={"Accept": "text/csv, application/x-ndjson"},
        )
    return fmt


async def request_records(reader: RecordReader, request: Request) -> AsyncIterator[tuple[int, Any]]:
    async for chunk in request.stream():
        for record in reader.feed(chunk):
            yield record
    for record in reader.finish():
        yield record
