"""Every service's migrations build exactly the schema its table models describe.

For each service with a database (``relacja_devstack.SERVICES``, so a new service is
covered by its ``ServiceSpec`` line alone), on a fresh database of the stack's PostgreSQL:

    alembic upgrade head    → compare with the models: no difference
    alembic downgrade base  → nothing of the service is left
    alembic upgrade head    → compare again: no difference

The comparison is Alembic's autogenerate (``compare_metadata``): tables, columns, types,
nullability, server defaults (as PostgreSQL spells them), comments, indexes, unique constraints and foreign keys. The
models are the service's ``tables`` module plus the shared tables every service database
holds: the outbox/inbox (``relacja_messaging``) and the Idempotency-Key responses
(``relacja_servicekit``), both purged by every service's housekeeping.

Alembic runs in a worker thread, in this process: ``env.py`` starts its own event loop
(``relacja_servicekit.migrations``) and reads the URL from the service's settings, i.e.
from ``RELACJA_<SERVICE>_DATABASE_URL``, as the Kubernetes Job and ``make run`` do.
"""

from __future__ import annotations

import asyncio
import importlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import DDL, Column, MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from relacja_devstack import SERVICES, ServiceSpec, Stack
from relacja_messaging.tables import metadata as messaging_metadata
from relacja_servicekit.idempotency import metadata as idempotency_metadata

DATABASE_SERVICES = [spec for spec in SERVICES if spec.database]

# Whatever is in the public schema and was not created by an extension (pg_trgm's
# functions and types stay with the extension, which a downgrade need not drop: it is
# the database's, not one table's) and is not Alembic's own version table.
LEFTOVERS = """
SELECT kind || ' ' || name FROM (
    SELECT 'relation' AS kind, c.relname::text AS name, c.oid, 'pg_class'::regclass AS catalog
      FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relname NOT LIKE 'alembic_version%'
    UNION ALL
    SELECT 'function', p.proname::text, p.oid, 'pg_proc'::regclass
      FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
    UNION ALL
    SELECT 'type', t.typname::text, t.oid, 'pg_type'::regclass
      FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace AND t.typrelid = 0 AND t.typelem = 0
) AS objects
WHERE NOT EXISTS (
    SELECT 1 FROM pg_depend d WHERE d.classid = objects.catalog AND d.objid = objects.oid AND d.deptype = 'e'
)
ORDER BY 1
"""


def _models(spec: ServiceSpec) -> list[MetaData]:
    tables = importlib.import_module(f"relacja_{spec.name}.tables")
    return [tables.metadata, messaging_metadata, idempotency_metadata]


def _spelled_by_postgres(connection: Connection, column: Column[Any]) -> str:
    """PostgreSQL's canonical text of a model column's server default (as the catalog keeps it)."""
    sql_type = column.type.compile(dialect=connection.dialect)
    # A DDL compiler is typed to need a statement; an empty DDL (compiled to "") serves, as only
    # its get_column_default_string is used.
    compiler = connection.dialect.ddl_compiler(connection.dialect, DDL(""))
    expression = compiler.get_column_default_string(column)
    connection.exec_driver_sql(f"CREATE TEMPORARY TABLE default_probe (c {sql_type} DEFAULT {expression})")
    try:
        return connection.exec_driver_sql(
            "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'default_probe'::regclass"
        ).scalar_one()
    finally:
        connection.exec_driver_sql("DROP TABLE default_probe")


def _differences(connection: Connection, models: list[MetaData]) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
    # A list of MetaData is what env.py's target_metadata may be too; compare_metadata takes it as is.
    found = compare_metadata(context, models)  # type: ignore[arg-type]  # typed as one MetaData, accepts a sequence
    # Column changes come grouped per column; one list of single differences reads better.
    flat = [change for entry in found for change in (entry if isinstance(entry, list) else [entry])]
    columns = {
        (table.name, column.name): column
        for metadata in models
        for table in metadata.tables.values()
        for column in table.columns
    }
    # Alembic compares two differently spelled defaults by running both and comparing the
    # values, which tells nextval(...) from itself; PostgreSQL's own spelling of each can.
    return [
        change
        for change in flat
        if not (
            change[0] == "modify_default"
            and change[5] is not None
            and change[6] is not None
            and change[5].arg.text == _spelled_by_postgres(connection, columns[change[2], change[3]])
        )
    ]


@pytest.fixture
async def fresh_database(stack: Stack, spec: ServiceSpec, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """The URL of a new, empty database; the service's settings point at it."""
    name = f"mig_{spec.name}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(stack.postgres_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = stack.database_url(spec.name).rsplit("/", 1)[0] + f"/{name}"
    monkeypatch.setenv(f"{spec.env_prefix}_DATABASE_URL", url)
    try:
        yield url
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def _alembic(stack: Stack, spec: ServiceSpec, step: str, revision: str) -> None:
    config = Config(str(stack.config.repo_root / spec.alembic_ini))
    await asyncio.to_thread(getattr(command, step), config, revision)


async def _compare(url: str, spec: ServiceSpec) -> list[Any]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_differences, _models(spec))
    finally:
        await engine.dispose()


async def _leftovers(url: str) -> list[str]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return [row[0] for row in await conn.fetch(LEFTOVERS)]
    finally:
        await conn.close()


@pytest.mark.parametrize("spec", DATABASE_SERVICES, ids=[spec.name for spec in DATABASE_SERVICES])
async def test_migrations_build_the_models_and_downgrade_to_nothing(
    stack: Stack, spec: ServiceSpec, fresh_database: str
) -> None:
    await _alembic(stack, spec, "upgrade", "head")
    assert await _compare(fresh_database, spec) == []
    assert await _leftovers(fresh_database) != []  # the check below can see the service's objects

    await _alembic(stack, spec, "downgrade", "base")
    assert await _leftovers(fresh_database) == []

    await _alembic(stack, spec, "upgrade", "head")
    assert await _compare(fresh_database, spec) == []
