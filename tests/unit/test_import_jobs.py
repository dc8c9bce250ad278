"""The import-job lifecycle (``relacja_servicekit.import_jobs.ImportJob``), pure: an
in-memory job store and rows that are integers, so every branch of the error policy is
checked without a database."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from relacja_servicekit import Problem
from relacja_servicekit.import_jobs import (
    CONFLICT,
    INTERRUPTED,
    SERVER_ERROR,
    ImportJob,
    ImportJobFailed,
    ImportProgress,
    RowErrors,
    RowImport,
    accepted_import,
)
from relacja_servicekit.import_records import ImportFormatError


class MemoryStore:
    """The job row and the written rows in memory; a commit that raises keeps nothing."""

    def __init__(self) -> None:
        self.jobs: dict[uuid.UUID, dict[str, Any]] = {}
        self.written: list[int] = []

    async def start(self, job_id: uuid.UUID, format: str) -> None:
        self.jobs[job_id] = {
            "id": job_id,
            "status": "running",
            "format": format,
            "failure": None,
            **ImportProgress(job_id).columns(),
        }

    async def commit(self, job: ImportProgress, write: Callable[[Any], Any]) -> None:
        transaction: list[int] = []
        await write(transaction)
        self.written += transaction
        self.jobs[job.id].update(json.loads(json.dumps(job.columns())))

    async def finish(self, job_id: uuid.UUID, status: str, failure: str | None) -> dict[str, Any]:
        self.jobs[job_id].update(status=status, failure=failure)
        return self.jobs[job_id]

    @property
    def job(self) -> dict[str, Any]:
        [job] = self.jobs.values()
        return job


class Conflict(Exception):
    """A unique violation, as the fake store raises it for a repeated key."""


class Numbers(RowImport[int, int]):
    """Rows are integers; a row ``k:v`` has key ``k``. ``write`` fails rows above 100,
    raises ``Conflict`` for a batch holding 13 and ``boom`` for a batch holding 666."""

    batch_size = 3
    concurrent_conflicts = (Conflict,)

    def __init__(self, boom: Exception | None = None, gate: asyncio.Event | None = None) -> None:
        self.boom = boom
        self.gate = gate
        self.batches: list[list[int]] = []

    def check_header(self, header: list[str]) -> RowErrors:
        return [] if header == ["n"] else [{"field": "header", "message": "want n"}]

    def parse(self, header: list[str] | None, record: Any) -> tuple[int | None, RowErrors]:
        text = record[0]
        try:
            return int(text.split(":")[-1]), []
        except ValueError:
            return None, [{"field": "n", "message": "not a number"}]

    def key(self, row: int) -> int | None:
        return row if row < 50 else None

    async def write(self, session: Any, items: list[tuple[int, int]], job: ImportProgress) -> None:
        values = [value for _, value in items]
        self.batches.append(values)
        if self.gate is not None:
            await self.gate.wait()
        if 666 in values:
            raise self.boom or RuntimeError("boom")
        if 13 in values and len(values) > 1:
            raise Conflict()
        if values == [13]:
            raise Conflict()
        for number, value in items:
            if value > 100:
                job.fail(number, [{"field": "n", "message": "too big"}])
            else:
                session.append(value)
                job.rows_created += 1


async def records(*lines: str, error: Exception | None = None) -> AsyncIterator[tuple[int, Any]]:
    for number, line in enumerate(lines, start=1):
        yield number, [line]
    if error is not None:
        raise error


async def test_rows_go_in_batches_bad_rows_are_recorded_and_the_import_goes_on() -> None:
    store, rows = MemoryStore(), Numbers()
    job = await ImportJob(rows, store).run("csv", records("n", "1", "x", "2", "3", "4", "200", "5"))
    assert job["status"] == "completed" and job["failure"] is None
    assert rows.batches == [[1, 2, 3], [4, 200, 5]]
    assert store.written == [1, 2, 3, 4, 5]
    assert (job["rows_total"], job["rows_created"], job["rows_failed"]) == (7, 5, 2)
    assert [(e["row"], e["field"]) for e in job["errors"]] == [(3, "n"), (7, "n")]


async def test_a_repeated_key_starts_a_new_batch_so_the_later_row_wins() -> None:
    rows = Numbers()
    await ImportJob(rows, MemoryStore()).run("ndjson", records("1", "a:2", "b:2", "3"))
    assert rows.batches == [[1, 2], [2, 3]]


async def test_a_bad_header_is_a_problem_before_any_job_exists() -> None:
    store = MemoryStore()
    with pytest.raises(Problem) as raised:
        await ImportJob(Numbers(), store).run("csv", records("m", "1"))
    assert raised.value.status == 422 and raised.value.errors == [{"field": "header", "message": "want n"}]
    with pytest.raises(Problem) as empty:
        await ImportJob(Numbers(), store).run("csv", records())
    assert empty.value.status == 422
    assert store.jobs == {}


async def test_an_unreadable_body_fails_the_job_and_keeps_the_batches_before_it() -> None:
    store = MemoryStore()
    job = await ImportJob(Numbers(), store).run(
        "csv", records("n", "1", "2", "3", "4", error=ImportFormatError("line 6 is not UTF-8"))
    )
    assert (job["status"], job["failure"]) == ("failed", "line 6 is not UTF-8")
    assert store.written == [1, 2, 3, 4] and job["rows_created"] == 4


async def test_a_concurrent_conflict_fails_only_the_conflicting_row() -> None:
    store = MemoryStore()
    job = await ImportJob(Numbers(), store).run("csv", records("n", "12", "13", "14"))
    assert job["status"] == "completed" and store.written == [12, 14]
    assert job["errors"] == [{"row": 3, "field": "row", "message": CONFLICT}]


async def test_an_unexpected_error_fails_the_job_with_a_safe_message_and_logs_the_stack(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryStore()
    with caplog.at_level(logging.ERROR, logger="relacja_servicekit.import_jobs"):
        with pytest.raises(ImportJobFailed) as raised:
            await ImportJob(Numbers(RuntimeError("secret dsn=postgres://u:p@db")), store).run(
                "csv", records("n", "1", "2", "3", "666", "4")
            )
    job = store.job
    assert (job["status"], job["failure"]) == ("failed", SERVER_ERROR) and raised.value.job_id == job["id"]
    assert "secret" not in job["failure"]
    assert store.written == [1, 2, 3] and job["rows_created"] == 3  # the batch before stays, counted
    [record] = [r for r in caplog.records if str(job["id"]) in r.getMessage()]
    assert record.exc_info is not None and "secret" in str(record.exc_info[1])


async def test_the_answer_to_a_failed_job_is_a_problem_naming_it_without_internals() -> None:
    job_id = uuid.uuid4()

    async def failing() -> Any:
        raise ImportJobFailed(job_id) from RuntimeError("secret")

    with pytest.raises(Problem) as raised:
        await accepted_import("/api/v1/things/imports", failing())
    problem = raised.value
    assert problem.status == 500 and problem.type.endswith(":import-failed")
    assert problem.headers == {"Location": f"/api/v1/things/imports/{job_id}"} and problem.extra == {
        "import_id": str(job_id)
    }
    assert "secret" not in (problem.detail or "") and "Traceback" not in (problem.detail or "")
    assert problem.__cause__ is None and problem.__suppress_context__


async def test_a_cancelled_import_is_marked_interrupted_and_the_cancellation_goes_on() -> None:
    store, gate = MemoryStore(), asyncio.Event()
    rows = Numbers(gate=gate)
    task = asyncio.ensure_future(ImportJob(rows, store).run("csv", records("n", "1", "2", "3", "4")))
    while not rows.batches:  # the first batch is being written
        await asyncio.sleep(0)
    assert store.job["status"] == "running"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    job = store.job
    assert (job["status"], job["failure"]) == ("failed", INTERRUPTED)
    assert store.written == [] and job["rows_total"] == 0  # the batch in flight was rolled back, not counted


async def test_a_failing_final_write_is_logged_and_the_error_still_surfaces(caplog: pytest.LogCaptureFixture) -> None:
    class Unreachable(MemoryStore):
        async def finish(self, job_id: uuid.UUID, status: str, failure: str | None) -> dict[str, Any]:
            raise ConnectionError("database down")

    with caplog.at_level(logging.ERROR, logger="relacja_servicekit.import_jobs"):
        with pytest.raises(ImportJobFailed):
            await ImportJob(Numbers(), Unreachable()).run("csv", records("n", "666"))
    assert any("could not be marked failed" in r.getMessage() for r in caplog.records)


def test_a_quoted_field_never_closed_cannot_gather_the_upload_into_memory() -> None:
    """Short lines inside an open quote are one unfinished record: it is bounded like a
    line (MAX_LINE_BYTES), so a 1 GiB upload of them fails early instead of being held."""
    from relacja_servicekit.import_records import MAX_LINE_BYTES, RecordReader

    reader = RecordReader("csv")
    assert list(reader.feed(b'a,b\n1,"2\n')) == [(1, ["a", "b"])]
    line = b"x" * 1023 + b"\n"
    fed = 0
    with pytest.raises(ImportFormatError, match="longer than"):
        while fed <= 2 * MAX_LINE_BYTES:
            list(reader.feed(line * 64))
            fed += len(line) * 64
    assert fed <= MAX_LINE_BYTES + len(line) * 64


def test_a_long_quoted_field_under_the_bound_is_one_record() -> None:
    from relacja_servicekit.import_records import RecordReader

    reader = RecordReader("csv")
    body = b'a,b\n1,"' + b"line\n" * 1000 + b'end"\n2,3\n'
    records = list(reader.feed(body))
    assert [number for number, _ in records] == [1, 2, 3]
    assert records[1][1][1] == "line\n" * 1000 + "end" and records[2][1] == ["2", "3"]
