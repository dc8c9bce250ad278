"""The historical import of orders: what its rows become, on the shared import lifecycle.

    import_orders(sessions, format, records)   run an import → the finished job row
    get_import(session, id) / list_imports(...)  the jobs
    OrderRows                                   the rows' part of the lifecycle
                                                (relacja_servicekit.import_jobs.ImportJob)

The row format is in ``domain.imports``. The lifecycle (header check, batches of
:data:`BATCH_SIZE` valid rows each committed with the job's counters, row errors, the
final state, the error policy) is ``relacja_servicekit.import_jobs``. What is the
orders' own: ``prepare`` prices a batch on a connection of its own in the reading task
while the previous batch is written, so two PostgreSQL backends and Python work side by
side — plain rows (``domain.imports.plain_row``) by PostgreSQL (``app.import_pricing``,
which hands back binary COPY data), the others and every row with an error by
``domain.imports.build_order``; ``write`` upserts the priced batch set-based.

A batch is priced and written set-based: its customers resolved in one statement
(``customer_external_id`` → the customers projection; an unknown, merged or erased
customer is a row error, never a guess), its orders COPYed into a temporary staging table and moved with one ``INSERT ... SELECT ... ON CONFLICT
(external_id) DO UPDATE ... WHERE <something differs>``, which upserts by the order's
external id and skips unchanged rows; the same statement writes one
``OrderPlacedV1(imported=true)`` outbox row per created or changed order from the upserted
rows (``events.placed_events_insert``: built by PostgreSQL, set-based). Re-running a file therefore changes
and emits nothing. Rows without ``external_id`` are always new orders. A live (not
imported) order is never overwritten.

Neither is an imported order that has changed in Relacja since (paid, delivered,
cancelled, returned): overwriting it would undo those facts — reset returned quantities,
so that goods could be returned twice. Each imported order keeps the fingerprint of the
row it was imported from and the version that import wrote (``import_fingerprint``,
``imported_version``). A row equal to the one imported is unchanged, whatever happened
since; a row that differs updates the order only if its version is still the imported
one, and is otherwise a row error naming the order.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import AsyncIterator, Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from relacja_messaging.driver import asyncpg_connection
from relacja_messaging.tracing import current_traceparent
from relacja_servicekit.import_jobs import (
    ImportJob,
    ImportJobPublic,
    ImportJobTable,
    ImportProgress,
    RowErrors,
    RowImport,
)
from relacja_servicekit.import_records import Format
from relacja_servicekit.pagination import Page, paginate

from ..domain.imports import ImportRow, PlainRow, build_order, csv_header_errors, parse_row, plain_row
from ..tables import IMPORTED_FIELDS, import_fingerprint_sql, order_imports
from .errors import NotFound
from .events import placed_events_insert
from .import_pricing import STAGE_COLUMNS, PricedBatch, price_plain

__all__ = ["BATCH_SIZE", "OrderRows", "import_orders", "get_import", "list_imports"]

BATCH_SIZE = 5000

_STAGE_COLUMNS = list(STAGE_COLUMNS)
_EXTERNAL_ID = _STAGE_COLUMNS.index("external_id")
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
# created or changed (events.placed_events_insert), and count them.
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


@dataclass(frozen=True, slots=True)
class PricedBySql:
    """A row PostgreSQL priced: its order is in ``batch`` (shared by the batch's rows)."""

    external_id: str | None
    batch: PricedBatch


Record = tuple[Any, ...]  # an order Python priced, as a COPY record in _STAGE_COLUMNS order
Staged = Record | PricedBySql


class OrderRows(RowImport[PlainRow | ImportRow, Staged]):
    """Order rows: recognised or parsed by ``domain.imports``, priced (by PostgreSQL when
    plain, ``app.import_pricing``; else by ``build_order``) into staging rows, upserted."""

    batch_size = BATCH_SIZE

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions  # pricing looks up on a connection of its own while a batch is written

    def check_header(self, header: list[str]) -> RowErrors:
        return csv_header_errors(header)

    def parse(self, header: list[str] | None, record: Any) -> tuple[PlainRow | ImportRow | None, RowErrors]:
        plain = plain_row(header, record)
        return (plain, []) if plain is not None else parse_row(header, record)

    def key(self, row: PlainRow | ImportRow) -> Hashable | None:
        return row.external_id

    async def prepare(
        self, rows: list[tuple[int, PlainRow | ImportRow]]
    ) -> tuple[list[tuple[int, Staged]], list[tuple[int, RowErrors]]]:
        """Price the batch: plain rows by PostgreSQL, the rest (and the plain rows it did
        not price: errors, huge amounts) by ``build_order``."""
        staged: list[tuple[int, Staged]] = []
        failed: list[tuple[int, RowErrors]] = []
        # isinstance of PlainRow (a dataclass), not of ImportRow: pydantic's metaclass makes that slow
        plain = [(number, row) for number, row in rows if isinstance(row, PlainRow)]
        slow = [(number, row) for number, row in rows if not isinstance(row, PlainRow)]
        async with self.sessions() as lookup:
            connection = await asyncpg_connection(lookup)
            if plain:
                batch, problems = await price_plain(connection, [(number, row.doc) for number, row in plain])
                for number, row in plain:
                    problem = problems.get(number)
                    if problem is None:
                        staged.append((number, PricedBySql(row.external_id, batch)))
                    elif problem == "customer":
                        failed.append((number, _unknown_customer(row.customer_external_id)))
                    else:  # Python names the errors (or prices exactly what numeric would not)
                        slow.append((number, ImportRow.model_validate_json(row.doc)))
            if slow:
                priced, errors = await self._price(connection, slow)
                staged += priced
                failed += errors
        return staged, failed

    async def _price(
        self, connection: Any, rows: list[tuple[int, ImportRow]]
    ) -> tuple[list[tuple[int, Staged]], list[tuple[int, RowErrors]]]:
        """Resolve the rows' customers and SKUs and price them with ``build_order``."""
        customers = {
            r["external_id"]: r["customer_id"]
            for r in await connection.fetch(_CUSTOMERS, list({row.customer_external_id for _, row in rows}))
        }
        skus = list({line.sku for _, row in rows for line in row.lines})
        catalog = (
            {
                r["sku"]: (r["id"], r["category"])
                for r in await connection.fetch(
                    "SELECT id, sku, category FROM products WHERE sku = ANY($1::text[])", skus
                )
            }
            if skus
            else {}
        )
        staged: list[tuple[int, Staged]] = []
        failed: list[tuple[int, RowErrors]] = []
        for number, row in rows:
            customer_id = customers.get(row.customer_external_id)
            if customer_id is None:
                failed.append((number, _unknown_customer(row.customer_external_id)))
                continue
            built = build_order(row, catalog)
            if isinstance(built, list):
                failed.append((number, built))
                continue
            built["id"], built["customer_id"], built["lines"] = uuid.uuid4(), customer_id, json.dumps(built["lines"])
            staged.append((number, tuple(built[c] for c in _STAGE_COLUMNS)))
        return staged, failed

    async def write(self, session: AsyncSession, items: list[tuple[int, Staged]], job: ImportProgress) -> None:
        # A statement through the session first: it opens the transaction on the
        # connection, which the raw driver calls below then run inside.
        now = await session.scalar(select(func.now()))
        assert now is not None  # now() always answers
        connection = await asyncpg_connection(session)
        await connection.execute(_CREATE_STAGE)
        records = [item for _, item in items if isinstance(item, tuple)]
        by_sql = [item for _, item in items if isinstance(item, PricedBySql)]
        for batch in {id(item.batch): item.batch for item in by_sql}.values():
            # a priced batch is written whole: all its rows are in this write
            assert sum(1 for item in by_sql if item.batch is batch) == batch.count
            await connection.copy_to_table(
                "order_import_stage", source=io.BytesIO(batch.data()), columns=_STAGE_COLUMNS, format="binary"
            )
        if records:
            await connection.copy_records_to_table("order_import_stage", columns=_STAGE_COLUMNS, records=records)
        counts = await connection.fetchrow(_UPSERT, now, current_traceparent.get())
        # Only when the upsert left rows alone: a batch of new orders skips this join.
        kept = await connection.fetch(_CHANGED_SINCE_IMPORT) if counts["written"] < len(items) else []
        row_numbers = {
            external_id: number
            for number, item in items
            if (external_id := item.external_id if isinstance(item, PricedBySql) else item[_EXTERNAL_ID]) is not None
        }
        for order in kept:
            job.fail(
                row_numbers[order["external_id"]],
                [
                    {
                        "field": "external_id",
                        "message": f"order {order['number']} has changed in Relacja since it was imported (paid, delivered, cancelled "
                        "or returned); the row was not applied, so that those changes are not undone",
                    }
                ],
            )
        job.rows_created += counts["created"]
        job.rows_updated += counts["written"] - counts["created"]
        job.rows_unchanged += len(items) - counts["written"] - len(kept)


def _unknown_customer(external_id: str) -> RowErrors:
    return [
        {
            "field": "customer_external_id",
            "message": f"no active customer with external id {external_id!r} is known; the row was not imported",
        }
    ]


async def import_orders(
    sessions: async_sessionmaker[AsyncSession], format: Format, records: AsyncIterator[tuple[int, Any]]
) -> Any:
    """Run an import of ``records`` → the finished job row (see ``ImportJob.run``)."""
    return await ImportJob(OrderRows(sessions), ImportJobTable(order_imports, sessions)).run(format, records)


async def get_import(session: AsyncSession, import_id: uuid.UUID) -> Any:
    """The job row; ``NotFound`` when there is none."""
    row = (await session.execute(select(order_imports).where(order_imports.c.id == import_id))).first()
    if row is None:
        raise NotFound("Import", import_id)
    return row


async def list_imports(session: AsyncSession, *, limit: int, cursor: str | None) -> Page[ImportJobPublic]:
    """The jobs, newest first."""
    return await paginate(
        session,
        select(order_imports),
        keys=[order_imports.c.started_at, order_imports.c.id],
        limit=limit,
        cursor=cursor,
        descending=True,
        sort="-started_at",
        to_item=ImportJobPublic.from_row,
    )
