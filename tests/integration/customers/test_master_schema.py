"""Migration 0003 creates the customer master and import tables exactly as the models describe them."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from relacja_customers.tables import metadata
from relacja_devstack import Stack

TABLES = {"customers", "customer_imports"}


def _table_of(diff: object) -> str | None:
    change = diff[0] if isinstance(diff, list) else diff  # column changes come as lists of tuples
    for part in change[1:]:
        if isinstance(part, str) and part in TABLES:
            return part
        table = getattr(part, "table", None)
        name = getattr(part, "name", None) if table is None else table.name
        if name in TABLES:
            return name
    return None


async def test_models_match_the_migrated_schema(stack: Stack) -> None:
    engine = create_async_engine(stack.database_url("customers"))
    try:
        async with engine.connect() as connection:
            diffs = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), metadata)
            )
    finally:
        await engine.dispose()
    # Column comments live in the models only (as for every table of this service).
    relevant = [d for d in diffs if _table_of(d) in TABLES and not (isinstance(d, list) and d[0][0] == "modify_comment")]
    assert relevant == []
