"""Migration 0002 creates the tickets tables exactly as ``relacja_tickets.tables`` describes
their columns (types, nullability, keys). Indexes are in the migration only — the
partial indexes the queues and the breach watcher need are spelled out there — and column
comments live in the models only, so both are left out of the comparison."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from relacja_devstack import Stack
from relacja_tickets.tables import metadata

_IGNORED = {"add_index", "remove_index", "modify_comment"}
# One entry of alembic's compare_metadata (typed Any there): a tuple such as ("add_table", table),
# or a list of tuples for the changes to one column.
_Diff = tuple[Any, ...] | list[tuple[Any, ...]]


def _kind(diff: _Diff) -> str:
    return diff[0][0] if isinstance(diff, list) else diff[0]  # column changes come as lists of tuples


def _table(diff: _Diff) -> str | None:
    change = diff[0] if isinstance(diff, list) else diff
    for part in change[1:]:
        table = getattr(part, "table", None)
        name = part if isinstance(part, str) else getattr(table if table is not None else part, "name", None)
        if name in metadata.tables:
            return name
    return None


async def test_models_match_the_migrated_schema(stack: Stack) -> None:
    engine = create_async_engine(stack.database_url("tickets"))
    try:
        async with engine.connect() as connection:
            diffs = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), metadata)
            )
    finally:
        await engine.dispose()
    relevant = [d for d in diffs if _kind(d) not in _IGNORED and _table(d) in metadata.tables]
    assert relevant == []
    # The tables of the models exist (a diff list is also empty if nothing was compared).
    assert not [d for d in diffs if _kind(d) == "add_table"]
