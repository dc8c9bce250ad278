"""Bulk import (CSV and NDJSON, streamed) against the real PostgreSQL and broker; the
lifecycle's failure policy (a server error, a cancellation) on the real job table."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from relacja_contracts.topics import CUSTOMERS
from relacja_customers.app.imports import CustomerRows
from relacja_customers.tables import customer_imports
from relacja_devstack import Stack
from relacja_servicekit.import_jobs import (
    INTERRUPTED,
    SERVER_ERROR,
    ImportJob,
    ImportJobFailed,
    ImportJobTable,
    ImportProgress,
)

from ...support import eventually, read_topic

IMPORTS = "/api/v1/customers/imports"
CSV = {"Content-Type": "text/csv"}
NDJSON = {"Content-Type": "application/x-ndjson"}


@pytest.fixture
def api_timeout() -> float:
    return 60  # large imports


def csv_body(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


def ndjson_body(*rows: object) -> bytes:
    return "".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows).encode()


async def run(api: httpx.AsyncClient, body: bytes | AsyncIterator[bytes], headers: dict) -> dict:
    response = await api.post(IMPORTS, content=body, headers=headers)
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"{IMPORTS}/{job['id']}"
    return job


async def events_for(db: asyncpg.Connection, prefix: str) -> int:
    return await db.fetchval(
        "SELECT count(*) FROM customer_event_log l JOIN customers c ON c.id = l.customer_id WHERE c.external_id LIKE $1",
        prefix + "%",
    )


async def test_csv_import_creates_then_a_rerun_changes_nothing(
    stack: Stack, api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    p = f"csv-{uuid.uuid4().hex[:8]}-"
    body = csv_body(
        "external_id,kind,given_name,family_name,legal_name,email,phone,tags,addresses,custom_attributes,birth_date,lifecycle_stage",
        f'{p}1,person,Anna,Kowalska,,{p}1@example.com,6{uuid.uuid4().int % 10**8:08d},vip;b2b,"[{{""type"": ""home"", ""line1"": ""Długa 1"", ""city"": ""Gdańsk"", ""country"": ""PL""}}]","{{""score"": {{""type"": ""number"", ""value"": 3}}}}",1990-01-02,customer',
        f'{p}2,company,,,"Acme, ""Best"" Ltd",,,,,,,',
        f'{p}3,person,"Jan\nMaria",Nowak,,,,,,,,',
    )
    job = await run(api, body, CSV)
    assert (job["status"], job["format"], job["rows_total"], job["rows_created"], job["rows_imported"]) == (
        "completed",
        "csv",
        3,
        3,
        3,
    )
    assert job["rows_failed"] == 0 and job["errors"] == [] and job["finished_at"] is not None

    anna = await db.fetchrow("SELECT * FROM customers WHERE external_id = $1", f"{p}1")
    assert anna is not None
    assert (
        anna["display_name"] == "Anna Kowalska" and anna["phone"].startswith("+486") and anna["tags"] == ["b2b", "vip"]
    )
    assert anna["lifecycle_stage"] == "customer" and json.loads(anna["custom_attributes"]) == {
        "score": {"type": "number", "value": 3}
    }
    assert await db.fetchval("SELECT display_name FROM customers WHERE external_id = $1", f"{p}2") == 'Acme, "Best" Ltd'
    assert await db.fetchval("SELECT given_name FROM customers WHERE external_id = $1", f"{p}3") == "Jan\nMaria"
    assert await events_for(db, p) == 3
    payloads = await db.fetch(
        "SELECT l.payload FROM customer_event_log l JOIN customers c ON c.id = l.customer_id WHERE c.external_id LIKE $1",
        p + "%",
    )
    assert all(json.loads(r["payload"])["imported"] is True for r in payloads)

    again = await run(api, body, CSV)
    assert (again["rows_total"], again["rows_created"], again["rows_updated"], again["rows_unchanged"]) == (3, 0, 0, 3)
    assert await events_for(db, p) == 3

    records = await eventually(
        lambda: read_topic(stack.bootstrap_servers, CUSTOMERS.name, header="ce_subject", values={str(anna["id"])}),
        timeout=30,
    )
    assert json.loads(records[0].value)["imported"] is True and json.loads(records[0].value)["external_id"] == f"{p}1"


async def test_ndjson_import_updates_changed_rows_and_reports_bad_ones(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    p = f"nd-{uuid.uuid4().hex[:8]}-"
    await run(
        api,
        ndjson_body(
            {"external_id": f"{p}1", "given_name": "Ola", "tags": ["a"]}, {"external_id": f"{p}2", "given_name": "Ela"}
        ),
        NDJSON,
    )
    job = await run(
        api,
        ndjson_body(
            {"external_id": f"{p}1", "family_name": "Nowak", "lifecycle_stage": "prospect"},  # changed
            {"external_id": f"{p}2", "given_name": "Ela"},  # unchanged
            "",  # blank lines are skipped
            {"external_id": f"{p}3", "given_name": "Iza", "email": "nope", "birth_date": "2999-01-01"},
            "{broken",
            '["a list"]',
            {"given_name": "No id"},
            {"external_id": f"{p}4", "given_name": "Eva", "shoe": 44},
            {"external_id": f"{p}1", "kind": "company"},
            {"external_id": f"{p}2", "lifecycle_stage": "customer"},  # changed again, in a second batch (same id)
            {"external_id": f"{p}5", "kind": "company", "legal_name": "Firma", "company_id": str(uuid.uuid4())},
        ),
        NDJSON,
    )
    assert (job["rows_total"], job["rows_created"], job["rows_updated"], job["rows_unchanged"], job["rows_failed"]) == (
        10,
        0,
        2,
        1,
        7,
    )
    errors = {(e["row"], e["field"]) for e in job["errors"]}
    assert errors == {
        (4, "email"),
        (4, "birth_date"),
        (5, "row"),
        (6, "row"),
        (7, "external_id"),
        (8, "shoe"),
        (9, "kind"),
        (11, "company_id"),
    }
    ola = await db.fetchrow(
        "SELECT display_name, lifecycle_stage, tags, version FROM customers WHERE external_id = $1", f"{p}1"
    )
    assert ola is not None
    assert (ola["display_name"], ola["lifecycle_stage"], ola["tags"], ola["version"]) == (
        "Ola Nowak",
        "prospect",
        ["a"],
        2,
    )
    assert await db.fetchval("SELECT lifecycle_stage FROM customers WHERE external_id = $1", f"{p}2") == "customer"
    assert (
        await db.fetchval("SELECT count(*) FROM customers WHERE external_id IN ($1, $2, $3)", f"{p}3", f"{p}4", f"{p}5")
        == 0
    )
    updated = await db.fetch(
        "SELECT l.payload FROM customer_event_log l JOIN customers c ON c.id = l.customer_id "
        "WHERE c.external_id = $1 AND l.event_type LIKE '%updated%'",
        f"{p}1",
    )
    assert [json.loads(r["payload"])["changed_fields"] for r in updated] == [
        ["display_name", "family_name", "lifecycle_stage"]
    ]

    fetched = await api.get(f"{IMPORTS}/{job['id']}")
    assert fetched.status_code == 200 and fetched.json() == job
    listed = (await api.get(IMPORTS, params={"limit": 500})).json()["items"]
    assert job["id"] in [j["id"] for j in listed]


async def test_duplicate_contacts_in_an_import_are_row_errors(api: httpx.AsyncClient) -> None:
    p = f"dup-{uuid.uuid4().hex[:8]}-"
    email = f"{p}@example.com"
    existing = await api.post("/api/v1/customers", json={"kind": "person", "given_name": "Has", "email": email})
    assert existing.status_code == 201
    job = await run(
        api,
        ndjson_body(
            {"external_id": f"{p}1", "given_name": "A", "email": email.upper()},
            {"external_id": f"{p}2", "given_name": "B", "email": f"{p}b@example.com"},
            {"external_id": f"{p}3", "given_name": "C", "email": f"{p}b@example.com"},
        ),
        NDJSON,
    )
    assert (job["rows_created"], job["rows_failed"]) == (1, 2)
    assert [(e["row"], e["field"]) for e in job["errors"]] == [(1, "email"), (3, "email")]


async def test_a_large_streamed_import_spans_batches_and_the_body_limit(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    """2,500 rows (three batches) in a body over the 1 MiB limit other routes have, sent in chunks."""
    p = f"big-{uuid.uuid4().hex[:8]}-"
    padding = "x" * 400

    async def chunks() -> AsyncIterator[bytes]:
        yield b"external_id,given_name,family_name,custom_attributes\n"
        for i in range(2500):
            note = json.dumps({"note": {"type": "string", "value": padding}}).replace('"', '""')
            yield f'{p}{i},Name{i},Family,"{note}"\n'.encode()

    job = await run(api, chunks(), CSV)
    assert (job["rows_total"], job["rows_created"], job["rows_failed"], job["status"]) == (2500, 2500, 0, "completed")
    assert await db.fetchval("SELECT count(*) FROM customers WHERE external_id LIKE $1", p + "%") == 2500
    assert await events_for(db, p) == 2500
    too_big = await api.post("/api/v1/customers", json={"kind": "person", "display_name": "x" * 1_100_000})
    assert too_big.status_code == 413


async def test_bad_bodies(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    response = await api.post(IMPORTS, json=[{"external_id": "x"}])
    assert response.status_code == 415 and response.headers["content-type"].startswith("application/problem+json")
    assert (
        await api.post(IMPORTS, content=b"external_id\n", headers={"Content-Type": "text/csv; charset=latin-1"})
    ).status_code == 415
    header = await api.post(IMPORTS, content=csv_body("external_id,given_name,shoe_size"), headers=CSV)
    assert header.status_code == 422 and [e["field"] for e in header.json()["errors"]] == ["header.shoe_size"]
    missing = await api.post(IMPORTS, content=csv_body("given_name"), headers=CSV)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "header.external_id"
    assert (await api.post(IMPORTS, content=b"", headers=CSV)).status_code == 422

    p = f"bad-{uuid.uuid4().hex[:8]}-"
    job = await run(api, f"external_id,given_name\n{p}1,Ok\n{p}2,\xff\n".encode("latin-1"), CSV)
    assert job["status"] == "failed" and job["failure"] == "line 3 is not UTF-8" and job["rows_created"] == 1
    job = await run(api, csv_body("external_id,given_name", f"{p}4,Ok", f'{p}5,"open quote'), CSV)
    assert job["status"] == "failed" and "quoted" in job["failure"] and job["rows_created"] == 1
    job = await run(api, csv_body("external_id,given_name", f"{p}3,Too,Many"), CSV)
    assert job["status"] == "completed" and job["errors"][0]["field"] == "row"

    assert (await api.get(f"{IMPORTS}/{uuid.uuid4()}")).status_code == 404
    assert (await api.get(f"{IMPORTS}/not-a-uuid")).status_code == 400


class _FailingRows(CustomerRows):
    """The real customer rows, but the write of a batch holding ``poison`` fails as a bug
    would, or waits on ``gate`` (a batch in flight when the import is cancelled)."""

    batch_size = 2

    def __init__(self, poison: str, *, gate: asyncio.Event | None = None) -> None:
        self.poison, self.gate, self.started = poison, gate, asyncio.Event()

    async def write(self, session: AsyncSession, items: list, job: ImportProgress) -> None:
        if any(row.external_id == self.poison for _, row in items):
            self.started.set()
            if self.gate is None:
                raise KeyError("internal detail that must not reach a client")
            await self.gate.wait()
        await super().write(session, items, job)


async def _ndjson_records(*external_ids: str) -> AsyncIterator[tuple[int, str]]:
    for number, external_id in enumerate(external_ids, start=1):
        yield number, json.dumps({"external_id": external_id, "given_name": "Failing", "family_name": "Import"})


async def test_a_server_error_fails_the_job_safely_and_keeps_the_batches_before(
    api: httpx.AsyncClient,
    db: asyncpg.Connection,
    sessions: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    p = f"boom-{uuid.uuid4().hex[:8]}-"
    job = ImportJob(_FailingRows(f"{p}3"), ImportJobTable(customer_imports, sessions))
    with pytest.raises(ImportJobFailed) as raised:
        await job.run("ndjson", _ndjson_records(f"{p}1", f"{p}2", f"{p}3", f"{p}4"))
    stored = (await api.get(f"{IMPORTS}/{raised.value.job_id}")).json()
    assert (stored["status"], stored["failure"], stored["rows_created"], stored["rows_total"]) == (
        "failed",
        SERVER_ERROR,
        2,
        2,
    )
    assert stored["finished_at"] is not None and "internal detail" not in json.dumps(stored)
    assert await db.fetchval("SELECT count(*) FROM customers WHERE external_id LIKE $1", p + "%") == 2
    assert any(
        r.exc_info and "internal detail" in str(r.exc_info[1]) for r in caplog.records
    )  # the stack is in the log


async def test_a_cancelled_import_does_not_stay_running(
    api: httpx.AsyncClient, db: asyncpg.Connection, sessions: async_sessionmaker[AsyncSession]
) -> None:
    p = f"stop-{uuid.uuid4().hex[:8]}-"
    rows = _FailingRows(f"{p}3", gate=asyncio.Event())
    task = asyncio.ensure_future(
        ImportJob(rows, ImportJobTable(customer_imports, sessions)).run(
            "ndjson", _ndjson_records(f"{p}1", f"{p}2", f"{p}3", f"{p}4")
        )
    )
    await asyncio.wait_for(rows.started.wait(), 30)
    [running] = await db.fetch(
        "SELECT id, status FROM customer_imports WHERE status = 'running' AND rows_total = 2 "
        "AND errors = '[]' AND started_at > now() - interval '1 minute'"
    )
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stored = (await api.get(f"{IMPORTS}/{running['id']}")).json()
    assert (stored["status"], stored["failure"], stored["rows_created"]) == ("failed", INTERRUPTED, 2)
    assert await db.fetchval("SELECT count(*) FROM customers WHERE external_id LIKE $1", p + "%") == 2
