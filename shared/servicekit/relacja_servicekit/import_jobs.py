"""Bulk imports, the same in every service that takes them (customers, orders): the job's
lifecycle, written once, and what a client sees of it.

    ImportJob(rows, store).run(format, records)
                        the lifecycle: check the CSV header, create the job (``running``),
                        parse the rows, write them in batches, count progress and row
                        errors, set the final state (``completed`` / ``failed``)
    RowImport           what a service supplies: the header check, the row parser, the
                        batch key, the pricing of a batch (optional) and its write
    JobStore            where the job row lives; ImportJobTable is the PostgreSQL one
    ImportProgress      the job's counters and row errors, as committed
    BatchWriter         writes one batch while the next is read and priced
    ImportJobFailed     raised by ``run`` when the server failed the job (already recorded)

    import_format(content_type)   "csv" | "ndjson", or 415 naming what is accepted
    request_records(reader, req)  the body's records as the chunks arrive
    accepted_import(path, run)    202 with the finished job and its Location, or the
                                  500 problem naming the job the server failed
    ImportJobPublic               the job resource (counters, the first MAX_ERRORS row errors)

The one error policy of every import:

    a CSV header that is missing or   400 malformed-body / 422 validation-error, before
    not valid                         anything is written (no job)
    a bad row                         recorded in ``errors`` ({row, field, message}) and
                                      counted in ``rows_failed``; the import goes on
    an unreadable body (not UTF-8, an ``failed`` with ``failure`` saying why; the
    unterminated quote, a cut upload) batches before it stay committed; 202 with the job
    an unexpected exception           ``failed`` with a fixed, safe ``failure`` (never the
                                      exception's text); logged with its stack and the job
                                      id; the client gets a 500 ``import-failed`` problem
                                      naming the job
    cancellation (the service shuts   ``failed`` with ``failure`` "interrupted", written on
    down: asyncio.CancelledError)     a fresh session shielded from the cancellation; the
                                      CancelledError goes on (never swallowed)

Every batch commits its rows and the job's counters in one transaction, so whatever the
end, the job row agrees with what is committed and re-running the import (an upsert by
external id) completes it: a failed job is not resumed, it is run again. A job stays
``running`` only if the process dies without unwinding (SIGKILL, power loss) or the
database is unreachable when the job is to be marked failed (that is logged).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast

from fastapi.responses import JSONResponse
from pydantic import BaseModel, computed_field
from sqlalchemy import Table, func, insert, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import ClientDisconnect, Request

from .import_records import Format, ImportFormatError, RecordReader
from .models import RowModel
from .problems import Problem

__all__ = [
    "MAX_ERRORS",
    "MEDIA_TYPES",
    "INTERRUPTED",
    "SERVER_ERROR",
    "RowErrors",
    "RowImport",
    "JobStore",
    "ImportJobTable",
    "ImportJob",
    "ImportJobFailed",
    "BatchWriter",
    "ImportProgress",
    "ImportJobPublic",
    "ImportJobsPublic",
    "ImportRowError",
    "import_format",
    "request_records",
    "accepted_import",
]

log = logging.getLogger(__name__)

#: Row errors kept per job; the counters still count every failed row.
MAX_ERRORS = 1000
MEDIA_TYPES: dict[str, Format] = {"text/csv": "csv", "application/x-ndjson": "ndjson", "application/ndjson": "ndjson"}

#: The ``failure`` of a job the server failed: fixed text, so nothing internal leaks.
SERVER_ERROR = "the import stopped on a server error; the batches before it are committed: run it again to complete it"
#: The ``failure`` of a job cancelled by a shutdown.
INTERRUPTED = (
    "the import was interrupted (the service stopped); the batches before it are committed: run it again to complete it"
)
CONFLICT = "conflicts with a concurrent change; import it again"
CUT_UPLOAD = "the upload was interrupted before the body ended"

RowErrors = list[dict[str, str]]
RowT = TypeVar("RowT")
ItemT = TypeVar("ItemT")


# -- what a service supplies ------------------------------------------------------------


class RowImport(ABC, Generic[RowT, ItemT]):
    """What one service's import makes of its rows; :class:`ImportJob` does the rest.

    ``RowT`` is a parsed row, ``ItemT`` what ``prepare`` makes of it for ``write`` (the
    row itself unless ``prepare`` is overridden). Row numbers (``row`` in errors) are the
    reader's: a CSV record as a spreadsheet shows it, an NDJSON line number.
    """

    #: Valid rows per batch (one transaction each).
    batch_size: ClassVar[int] = 1000
    #: Exceptions meaning a concurrent writer got in between a batch's checks and its
    #: writes (a unique violation): the batch is then written row by row, so that only
    #: the conflicting row fails (reported as CONFLICT; a re-run retries it).
    concurrent_conflicts: ClassVar[tuple[type[Exception], ...]] = ()

    @abstractmethod
    def check_header(self, header: list[str]) -> RowErrors:
        """Errors of a CSV header row (unknown, repeated or missing columns); [] if fine."""

    @abstractmethod
    def parse(self, header: list[str] | None, record: Any) -> tuple[RowT | None, RowErrors]:
        """A CSV record (``header`` given) or an NDJSON line's text → the row, or its errors."""

    def key(self, row: RowT) -> Hashable | None:
        """The row's upsert key: two rows with one key never share a batch, so a batch
        writes each key once and a later row wins. None: the row has no key."""
        return None

    async def prepare(
        self, rows: list[tuple[int, RowT]]
    ) -> tuple[list[tuple[int, ItemT]], list[tuple[int, RowErrors]]]:
        """The batch's Python work (lookups, pricing), done by the reading task while the
        previous batch is written: each row's item, or its errors."""
        return cast(list[tuple[int, ItemT]], rows), []

    @abstractmethod
    async def write(self, session: AsyncSession, items: list[tuple[int, ItemT]], job: ImportProgress) -> None:
        """Write ``items`` inside the batch's open transaction and count them in ``job``
        (``rows_created`` / ``rows_updated`` / ``rows_unchanged``, ``job.fail`` for a row
        that fails here). Raising rolls the batch back."""


class JobStore(Protocol):
    """The job row. ``commit`` is one transaction: the batch's writes, then the counters."""

    async def start(self, job_id: uuid.UUID, format: Format) -> None: ...

    async def commit(self, job: ImportProgress, write: Callable[[AsyncSession], Awaitable[None]]) -> None: ...

    async def finish(self, job_id: uuid.UUID, status: str, failure: str | None) -> Any: ...


class ImportJobTable:
    """A :class:`JobStore` on a service's job table (``id``, ``status``, ``format``, the
    :meth:`ImportProgress.columns`, ``failure``, ``started_at``, ``finished_at``).

    Each call takes a session of its own from ``sessions``: a batch that failed or was
    cancelled leaves nothing behind that the next call (marking the job failed) relies on.
    """

    def __init__(self, table: Table, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.table = table
        self.sessions = sessions

    async def start(self, job_id: uuid.UUID, format: Format) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(insert(self.table).values(id=job_id, status="running", format=format))

    async def commit(self, job: ImportProgress, write: Callable[[AsyncSession], Awaitable[None]]) -> None:
        async with self.sessions() as session, session.begin():
            await write(session)
            await session.execute(update(self.table).where(self.table.c.id == job.id).values(**job.columns()))

    async def finish(self, job_id: uuid.UUID, status: str, failure: str | None) -> Any:
        """The final state; the counters are left as the last committed batch wrote them."""
        async with self.sessions() as session, session.begin():
            statement = (
                update(self.table)
                .where(self.table.c.id == job_id)
                .values(status=status, failure=failure, finished_at=func.now())
                .returning(*self.table.c)
            )
            return (await session.execute(statement)).one()


# -- the lifecycle --------------------------------------------------------------------------


class ImportJobFailed(Exception):
    """The server failed the job; it is recorded as ``failed`` and the cause is logged."""

    def __init__(self, job_id: uuid.UUID) -> None:
        super().__init__(SERVER_ERROR)
        self.job_id = job_id


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

    def fail(self, row: int, errors: RowErrors) -> None:
        """Count a failed row; keep its errors while fewer than ``MAX_ERRORS`` are kept."""
        self.rows_failed += 1
        room = max(MAX_ERRORS - len(self.errors), 0)
        self.errors += [{"row": row, **error} for error in errors[:room]]

    def copy(self) -> ImportProgress:
        return dataclasses.replace(self, errors=list(self.errors))

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
        """Cancel the batch in flight and wait until it has stopped (its transaction rolled
        back). A cancellation of the caller while waiting still propagates."""
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            await asyncio.wait([task])  # unlike ``await task`` this never raises the task's error
            if not task.cancelled():
                task.exception()  # retrieved: it was logged by whoever failed the job


@dataclass
class _Batch(Generic[RowT]):
    """Rows read since the previous batch was handed over."""

    rows: list[tuple[int, RowT]] = field(default_factory=list)
    keys: set[Hashable] = field(default_factory=set)
    read: int = 0  # rows read, valid or not
    failed: list[tuple[int, RowErrors]] = field(default_factory=list)


class ImportJob(Generic[RowT, ItemT]):
    """One run of an import: ``await ImportJob(rows, store).run(format, records)`` → the
    finished job row. See the module docstring for the error policy."""

    def __init__(self, rows: RowImport[RowT, ItemT], store: JobStore) -> None:
        self.rows = rows
        self.store = store

    async def run(self, format: Format, records: AsyncIterator[tuple[int, Any]]) -> Any:
        header = await self._header(records) if format == "csv" else None
        job_id = uuid.uuid4()
        await self.store.start(job_id, format)
        writer = BatchWriter(ImportProgress(job_id))
        try:
            failure = await self._read(header, records, writer)
            await writer.wait()
        except Exception as exc:
            await writer.abort()
            log.error("import %s stopped on a server error", job_id, exc_info=exc)
            await self._fail(job_id, SERVER_ERROR)
            raise ImportJobFailed(job_id) from exc
        except BaseException:
            # CancelledError (a shutdown), KeyboardInterrupt, SystemExit: not ours to swallow.
            # The batch in flight is stopped and the job marked on a fresh session, shielded
            # so that a second cancellation does not cut that short; then the exception goes on.
            await asyncio.shield(self._interrupted(job_id, writer))
            raise
        return await self.store.finish(job_id, "failed" if failure else "completed", failure)

    async def _header(self, records: AsyncIterator[tuple[int, Any]]) -> list[str]:
        try:
            first = await anext(records, None)
        except ImportFormatError as err:
            raise Problem(400, "Unreadable body", str(err), type_="malformed-body") from None
        if first is None:
            raise Problem(
                422,
                "Validation failed",
                "The CSV body has no header row.",
                type_="validation-error",
                errors=[{"field": "header", "message": "missing"}],
            )
        header = [name.strip() for name in first[1]]
        errors = self.rows.check_header(header)
        if errors:
            raise Problem(
                422, "Validation failed", "The CSV header is not valid.", type_="validation-error", errors=errors
            )
        return header

    async def _read(
        self, header: list[str] | None, records: AsyncIterator[tuple[int, Any]], writer: BatchWriter
    ) -> str | None:
        """Read, parse and hand over every batch; the ``failure`` of an unreadable body."""
        batch: _Batch[RowT] = _Batch()
        failure: str | None = None
        try:
            async for number, record in records:
                row, errors = self.rows.parse(header, record)
                key = None if row is None else self.rows.key(row)
                if row is not None and (
                    len(batch.rows) >= self.rows.batch_size or (key is not None and key in batch.keys)
                ):
                    await self._hand_over(batch, writer)
                    batch = _Batch()
                batch.read += 1
                if row is None:
                    batch.failed.append((number, errors))
                    continue
                batch.rows.append((number, row))
                if key is not None:
                    batch.keys.add(key)
        except ImportFormatError as err:
            failure = str(err)
        await self._hand_over(batch, writer)  # also when empty: the counters of the rows that failed
        return failure

    async def _hand_over(self, batch: _Batch[RowT], writer: BatchWriter) -> None:
        items, failed = await self.rows.prepare(batch.rows) if batch.rows else ([], [])
        await writer.submit(partial(self._commit, items, batch.read, batch.failed + failed))

    async def _commit(
        self, items: list[tuple[int, ItemT]], read: int, failed: list[tuple[int, RowErrors]], committed: ImportProgress
    ) -> ImportProgress:
        """Write a batch and the job's counters in one transaction; the progress after it."""
        job = committed.copy()
        job.rows_total += read
        reported = len(job.errors)
        for number, errors in sorted(failed, key=lambda failure: failure[0]):
            job.fail(number, errors)
        try:
            return await self._save(job, items, reported)
        except self.rows.concurrent_conflicts:
            log.info("import %s: a batch hit a concurrent change; writing it row by row", job.id)
        for item in items:
            try:
                job = await self._save(job, [item], reported)
            except self.rows.concurrent_conflicts:
                job.fail(item[0], [{"field": "row", "message": CONFLICT}])
        return await self._save(job, [], reported)

    async def _save(self, job: ImportProgress, items: list[tuple[int, ItemT]], reported: int) -> ImportProgress:
        attempt = job.copy()

        async def write(session: AsyncSession) -> None:
            if items:
                await self.rows.write(session, items, attempt)
            # The batch's errors by row (stable: a row's errors keep their order).
            attempt.errors[reported:] = sorted(attempt.errors[reported:], key=lambda error: error["row"])

        await self.store.commit(attempt, write)
        return attempt

    async def _interrupted(self, job_id: uuid.UUID, writer: BatchWriter) -> None:
        await writer.abort()
        await self._fail(job_id, INTERRUPTED)

    async def _fail(self, job_id: uuid.UUID, failure: str) -> None:
        try:
            await self.store.finish(job_id, "failed", failure)
        except Exception:
            log.exception("import %s could not be marked failed (%s); it stays running", job_id, failure)


# -- what a client sees -----------------------------------------------------------------------


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

    @computed_field  # type: ignore[prop-decorator]  # mypy does not know pydantic's stacked decorators
    @property
    def rows_imported(self) -> int:
        """Rows that created or changed a record."""
        return self.rows_created + self.rows_updated

    @computed_field  # type: ignore[prop-decorator]  # mypy does not know pydantic's stacked decorators
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
    """The records of the streamed body; a cut upload is an unreadable body (ImportFormatError)."""
    try:
        async for chunk in request.stream():
            for record in reader.feed(chunk):
                yield record
    except ClientDisconnect:
        raise ImportFormatError(CUT_UPLOAD) from None
    for record in reader.finish():
        yield record


async def accepted_import(path: str, run: Awaitable[Any]) -> JSONResponse:
    """202 with the finished job (completed, or failed on an unreadable body) and its
    ``Location``; a job the server failed is a 500 ``import-failed`` problem naming it
    (the cause is in the log, under the job id, never in the answer)."""
    try:
        row = await run
    except ImportJobFailed as err:
        location = f"{path}/{err.job_id}"
        raise Problem(
            500,
            "Import failed",
            f"{SERVER_ERROR} The job is {location}.",
            type_="import-failed",
            headers={"Location": location},
            extra={"import_id": str(err.job_id)},
        ) from None
    public = ImportJobPublic.from_row(row)
    return JSONResponse(public.model_dump(mode="json"), status_code=202, headers={"Location": f"{path}/{public.id}"})
