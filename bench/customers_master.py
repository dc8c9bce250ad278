"""Customer master at scale: get by id, search, and bulk import with 1,000,000 customers loaded.

    python -m bench.customers_master [--customers 1000000] [--requests 2000] [--import-rows 100000]
        [--import-only] [--profile FILE]

Targets (issue 3): search p95 ≤ 50 ms, get by id p95 ≤ 10 ms, import ≥ 5,000 rows/s end to
end including events.

Method. Its own stack (PostgreSQL, the broker and the customers service only; bench
ports + 100 (``bench_config(slot=1)``), state in ``.state/bench-a``, emptied at start
and stopped at the end) so it
runs beside ``make run``, ``make test`` and the other benchmarks.

1. Load (not measured): ``--customers`` rows built in Python with the service's own
   ``derived_columns`` (so search keys are what the service writes) and COPYed into the
   migrated ``customers`` table with its secondary indexes dropped and re-created after
   (as a bulk load would), in creation order (as rows accumulate in a live database), then
   ``VACUUM ANALYZE``. 10 % companies, persons with given and
   family names drawn from 100 × 1,000 names, 80 % with an e-mail, 50 % with a phone, 30 %
   linked to a company, tags, owners, stages and creation times over three years.
2. Get by id: ``--requests`` sequential ``GET /api/v1/customers/{id}`` of random ids over
   one keep-alive connection straight to the service, after 200 warm-up requests.
3. Search: the same for ``GET /api/v1/customers?q=...`` — a 5-letter fragment of a random
   family name, alone and with filters (stage, tag, kind, owner, created range) and the
   other sorts; each request uses a fresh fragment.
4. Import: ``--import-rows`` NDJSON rows (new external ids) streamed in 64 KiB chunks in
   one ``POST /api/v1/customers/imports``; rows/s = rows / wall time of the request. Every
   row is a new customer, so each writes its ``registered`` event to the outbox in the
   same transaction. The same body is then imported again (every row unchanged). The
   relay publishes in the background; its lag after the import is reported too, and the
   CPU per row of each process (``/proc``) during the import; ``--profile FILE``: py-spy
   of the customers process meanwhile. ``--import-only`` skips steps 2 and 3.

Latencies are client-side wall times (``time.perf_counter``) and include the HTTP client
(httpx) on the same 2-core machine as the server and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import platform
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from relacja_customers.domain.customer import apply_changes, derived_columns, fold
from relacja_devstack import Stack
from relacja_devstack.config import REPO_ROOT

from ._stack import bench_config, cpu_seconds, load_average, median, percentile
from .orders import finish_import_profile, import_profiler

STATE_DIR = REPO_ROOT / ".state" / "bench-a"

GIVEN = [
    "Anna",
    "Maria",
    "Katarzyna",
    "Małgorzata",
    "Agnieszka",
    "Barbara",
    "Ewa",
    "Krystyna",
    "Elżbieta",
    "Zofia",
    "Teresa",
    "Joanna",
    "Magdalena",
    "Monika",
    "Danuta",
    "Jadwiga",
    "Aleksandra",
    "Natalia",
    "Irena",
    "Halina",
    "Beata",
    "Dorota",
    "Karolina",
    "Marta",
    "Grażyna",
    "Janina",
    "Jolanta",
    "Iwona",
    "Alicja",
    "Justyna",
    "Paulina",
    "Renata",
    "Urszula",
    "Sylwia",
    "Agata",
    "Hanna",
    "Helena",
    "Wiesława",
    "Julia",
    "Bożena",
    "Izabela",
    "Patrycja",
    "Weronika",
    "Emilia",
    "Kamila",
    "Lena",
    "Zuzanna",
    "Oliwia",
    "Piotr",
    "Krzysztof",
    "Andrzej",
    "Tomasz",
    "Paweł",
    "Jan",
    "Michał",
    "Marcin",
    "Jakub",
    "Adam",
    "Marek",
    "Łukasz",
    "Grzegorz",
    "Mateusz",
    "Wojciech",
    "Mariusz",
    "Dariusz",
    "Zbigniew",
    "Jerzy",
    "Maciej",
    "Rafał",
    "Robert",
    "Kamil",
    "Józef",
    "Szymon",
    "Jacek",
    "Kacper",
    "Stanisław",
    "Ryszard",
    "Dawid",
    "Sebastian",
    "Przemysław",
    "Bartosz",
    "Daniel",
    "Tadeusz",
    "Filip",
    "Artur",
    "Henryk",
    "Damian",
    "Roman",
    "Leszek",
    "Kazimierz",
    "Czesław",
    "Mirosław",
    "Arkadiusz",
    "Patryk",
    "Zdzisław",
    "Igor",
    "Antoni",
    "Bogdan",
    "Karol",
]
_STEMS = [
    "Now",
    "Kowal",
    "Wiśniew",
    "Wójc",
    "Kamiń",
    "Lewandow",
    "Zieliń",
    "Szymań",
    "Woźniak",
    "Dąbrow",
    "Kozłow",
    "Jankow",
    "Mazur",
    "Kwiatkow",
    "Krawczyk",
    "Piotrow",
    "Grabow",
    "Nowakow",
    "Pawłow",
    "Michal",
    "Adamczyk",
    "Dudek",
    "Zając",
    "Wieczor",
    "Jabłoń",
    "Król",
    "Majew",
    "Olszew",
    "Jaworsk",
    "Wróbl",
    "Malinow",
    "Pawlak",
    "Witkow",
    "Walczak",
    "Stępień",
    "Górsk",
    "Rutkow",
    "Michalak",
    "Sikor",
    "Ostrow",
    "Baran",
    "Duda",
    "Szewczyk",
    "Tomaszew",
    "Pietrzak",
    "Marciniak",
    "Wróbel",
    "Zalew",
    "Jakubow",
]
_ENDINGS = [
    "ski",
    "ska",
    "cki",
    "cka",
    "ak",
    "ek",
    "ik",
    "uk",
    "czyk",
    "owicz",
    "ewicz",
    "ński",
    "ńska",
    "arz",
    "asz",
    "ała",
    "ela",
    "ota",
    "uta",
    "ny",
    "na",
    "owy",
    "owa",
    "ik",
    "in",
    "ek",
    "ko",
    "ecki",
    "ecka",
]
FAMILY = sorted({f"{stem}{ending}" for stem in _STEMS for ending in _ENDINGS})[:1000]
TAGS = ["vip", "newsletter", "b2b", "loyalty", "churn-risk", "wholesale", "retail", "partner", "event", "web"]
STAGES = ["lead", "prospect", "customer", "inactive"]
COLUMNS = [
    "id",
    "kind",
    "display_name",
    "given_name",
    "family_name",
    "legal_name",
    "email",
    "email_normalized",
    "phone",
    "addresses",
    "preferred_language",
    "birth_date",
    "lifecycle_stage",
    "owner_id",
    "external_id",
    "company_id",
    "tags",
    "custom_attributes",
    "version",
    "created_at",
    "updated_at",
    "name_key",
    "search_text",
    "company_name_key",
]

log = logging.getLogger("bench.customers")


# -- 1. load --------------------------------------------------------------------------------


def generate(count: int, seed: int = 7) -> tuple[list[tuple], list[uuid.UUID]]:
    """``count`` customer rows as COPY records (companies first), and the ids."""
    rng = random.Random(seed)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    span = int(timedelta(days=3 * 365).total_seconds())
    companies = count // 10
    company_keys: list[tuple[uuid.UUID, str]] = []
    records, ids = [], []
    for i in range(count):
        customer_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        is_company = i < companies
        kind = "company" if is_company else "person"
        if is_company:
            changes: dict[str, Any] = {
                "legal_name": f"{rng.choice(FAMILY)} {rng.choice(['Sp. z o.o.', 'S.A.', 'i Synowie', 'Handel', 'Trade'])} {i}"
            }
        else:
            given, family = rng.choice(GIVEN), rng.choice(FAMILY)
            changes = {
                "given_name": given,
                "family_name": family,
                "birth_date": date(1950, 1, 1) + timedelta(days=rng.randrange(20000)),
            }
            if rng.random() < 0.8:
                changes["email"] = f"{fold(given)}.{fold(family)}.{i}@example.com"
            if rng.random() < 0.3 and company_keys:
                changes["company_id"], company_key = rng.choice(company_keys)
        if rng.random() < 0.5:
            changes["phone"] = f"+48{rng.choice('5678')}{i:08d}"
        changes |= {
            "lifecycle_stage": rng.choice(STAGES),
            "owner_id": f"agent-{rng.randrange(50)}",
            "external_id": f"legacy-{i}",
            "tags": rng.sample(TAGS, rng.randrange(3)),
        }
        fields = apply_changes(kind, {}, changes)
        derived = derived_columns(fields)
        if is_company:
            company_keys.append((customer_id, derived["name_key"]))
        created = start + timedelta(seconds=rng.randrange(span))
        values = (
            fields
            | derived
            | {
                "id": customer_id,
                "kind": kind,
                "version": 1,
                "created_at": created,
                "updated_at": created,
                "company_name_key": company_key if fields.get("company_id") else "",
                "addresses": json.dumps(fields["addresses"]),
                "custom_attributes": json.dumps(fields["custom_attributes"]),
            }
        )
        records.append(tuple(values[c] for c in COLUMNS))
        ids.append(customer_id)
    # Stored in the order they were created, as rows accumulate in a live database.
    created_at = COLUMNS.index("created_at")
    records.sort(key=lambda record: record[created_at])
    return records, ids


async def load(dsn: str, count: int) -> list[uuid.UUID]:
    started = time.perf_counter()
    records, ids = await asyncio.to_thread(generate, count)
    log.info("generated %d rows in %.0f s", count, time.perf_counter() - started)
    conn = await asyncpg.connect(dsn)
    try:
        indexes = await conn.fetch(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname "
            "JOIN pg_index x ON x.indexrelid = c.oid WHERE i.tablename = 'customers' AND NOT x.indisprimary"
        )
        started = time.perf_counter()
        for index in indexes:
            await conn.execute(f'DROP INDEX "{index["indexname"]}"')
        await conn.execute("SET maintenance_work_mem = '512MB'")
        await conn.copy_records_to_table("customers", records=records, columns=COLUMNS)
        for index in indexes:
            await conn.execute(index["indexdef"])
        await conn.execute("VACUUM ANALYZE customers")
        log.info("COPY + %d indexes + VACUUM ANALYZE in %.0f s", len(indexes), time.perf_counter() - started)
    finally:
        await conn.close()
    return ids


# -- 2./3. latency --------------------------------------------------------------------------


@dataclasses.dataclass
class Latencies:
    name: str
    samples_ms: list[float]
    statuses: dict[int, int]

    def line(self) -> str:
        s = self.samples_ms
        return (
            f"{self.name:<44} n={len(s):>5}  p50 {median(s):6.2f} ms  p95 {percentile(s, 95):6.2f} ms  "
            f"p99 {percentile(s, 99):6.2f} ms  max {max(s):7.2f} ms  statuses {self.statuses}"
        )


async def measure(
    client: httpx.AsyncClient, name: str, next_url: Callable[[], str], requests: int, warmup: int = 200
) -> Latencies:
    statuses: dict[int, int] = {}
    samples: list[float] = []
    for i in range(warmup + requests):
        url = next_url()
        started = time.perf_counter()
        response = await client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        if i >= warmup:
            samples.append(elapsed)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    return Latencies(name, samples, statuses)


def search_cases(rng: random.Random) -> dict[str, Callable[[], str]]:
    def fragment() -> str:
        family = fold(rng.choice(FAMILY))
        start = rng.randrange(max(1, len(family) - 4))
        return family[start : start + 5]

    def url(**params: str) -> Callable[[], str]:
        def build() -> str:
            return str(httpx.URL("/api/v1/customers", params={"q": fragment(), **params}))

        return build

    return {
        "search q (sort -created_at)": url(),
        "search q + lifecycle_stage=customer": url(lifecycle_stage="customer"),
        "search q + tag=vip + kind=person": url(tag="vip", kind="person"),
        "search q + owner_id": url(owner_id="agent-7"),
        "search q + created range (2024)": url(
            created_after="2024-01-01T00:00:00Z", created_before="2025-01-01T00:00:00Z"
        ),
        "search q sort=display_name": url(sort="display_name"),
        "search full name 'anna kowalska'": lambda: "/api/v1/customers?q=anna+kowalska",
    }


# -- 4. import ------------------------------------------------------------------------------


def import_rows(count: int, run_id: str) -> list[bytes]:
    rng = random.Random(11)
    lines = []
    for i in range(count):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        row = {
            "external_id": f"import-{run_id}-{i}",
            "given_name": given,
            "family_name": family,
            "email": f"{fold(given)}.{fold(family)}.{run_id}.{i}@import.example.com",
            "phone": f"+4879{i % 10}{i // 10:06d}",
            "lifecycle_stage": rng.choice(STAGES[:3]),
            "tags": rng.sample(TAGS, 2),
            "owner_id": f"agent-{rng.randrange(50)}",
        }
        lines.append((json.dumps(row) + "\n").encode())
    return lines


async def chunked(lines: list[bytes], size: int = 65536) -> AsyncIterator[bytes]:
    buffer = bytearray()
    for line in lines:
        buffer += line
        if len(buffer) >= size:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


async def run_import(client: httpx.AsyncClient, lines: list[bytes]) -> tuple[float, dict]:
    started = time.perf_counter()
    response = await client.post(
        "/api/v1/customers/imports",
        content=chunked(lines),
        headers={"Content-Type": "application/x-ndjson"},
        timeout=3600,
    )
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed, response.json()


async def wait_published(dsn: str, timeout: float = 600) -> float:
    conn = await asyncpg.connect(dsn)
    started = time.perf_counter()
    try:
        while await conn.fetchval("SELECT EXISTS (SELECT 1 FROM outbox_events WHERE published_at IS NULL)"):
            if time.perf_counter() - started > timeout:
                raise TimeoutError("outbox not drained")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
    return time.perf_counter() - started


# -- main -----------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    stack = Stack(bench_config(["customers"], slot=1, state_dir=STATE_DIR, ready_timeout=120.0))
    await stack.start(fresh=True)
    results: list[str] = []
    try:
        dsn = stack.config.postgres_dsn("relacja_customers")
        ids = await load(dsn, args.customers)
        rng = random.Random(3)
        async with httpx.AsyncClient(base_url=stack.service_url("customers"), timeout=30, trust_env=False) as client:
            if not args.import_only:
                get = await measure(client, "get by id", lambda: f"/api/v1/customers/{rng.choice(ids)}", args.requests)
                results.append(get.line())
                print(get.line(), flush=True)
                for name, next_url in search_cases(rng).items():
                    latencies = await measure(client, name, next_url, args.search_requests)
                    results.append(latencies.line())
                    print(latencies.line(), flush=True)

            lines = import_rows(args.import_rows, uuid.uuid4().hex[:6])
            spy = import_profiler(stack, "customers", args.profile)
            before = cpu_seconds(stack.config.state_dir)
            elapsed, job = await run_import(client, lines)
            during = cpu_seconds(stack.config.state_dir)
            profile = finish_import_profile(spy, args.profile)
            load_during = load_average()
            lag = await wait_published(dsn)
            line = (
                f"import {args.import_rows} new rows (NDJSON, streamed): {elapsed:6.1f} s = {args.import_rows / elapsed:7.0f} rows/s "
                f"(created {job['rows_created']}, failed {job['rows_failed']}); relay drained the outbox {lag:.1f} s later "
                f"({load_during}); CPU per row during the import: "
                + ", ".join(
                    f"{part} {(during[part] - before.get(part, 0.0)) * 1e6 / args.import_rows:.0f} µs"
                    for part in sorted(during)
                    if part != "bench (this script)"
                )
            )
            results.append(line)
            print(line, flush=True)
            if profile:
                results.append(profile)
                print(profile, flush=True)
            elapsed, job = await run_import(client, lines)
            line = f"re-import of the same rows (all unchanged): {elapsed:6.1f} s = {args.import_rows / elapsed:7.0f} rows/s (unchanged {job['rows_unchanged']})"
            results.append(line)
            print(line, flush=True)
        if args.keep:
            print(
                f"--keep: the stack stays up (postgres {dsn}, customers {stack.service_url('customers')}); Ctrl+C stops it",
                flush=True,
            )
            await asyncio.Event().wait()
    finally:
        await stack.stop()
    print(
        "\n# " + f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, customers={args.customers}, load average at the end "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    print("\n".join(results))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=2000, help="get-by-id requests after warm-up")
    parser.add_argument("--search-requests", type=int, default=500, help="requests per search case after warm-up")
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the stack running afterwards (to inspect plans)")
    parser.add_argument("--import-only", action="store_true", help="skip the get-by-id and search measurements")
    parser.add_argument("--profile", help="py-spy the customers process during the import; the summary here")
    return parser.parse_args()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(parse_args()))
