"""Migration 0005 renames stored time units to the singular names, and back on downgrade.

On a fresh database of the stack's PostgreSQL: upgrade to 0004, store runs the way the
previous release did (plural units), upgrade to head, read them back.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from alembic import command
from alembic.config import Config

from relacja_devstack import SERVICES, Stack

SPEC = next(spec for spec in SERVICES if spec.name == "churn")

INSERT_RUN = (
    "INSERT INTO churn_model_runs (id, status, trigger, activate, calibration_end, time_unit, horizon_months, "
    "monthly_discount_rate, currency, created_at) VALUES ($1, 'succeeded', 'api', false, '2020-01-01', $2, 12, 0.01, 'PLN', now())"
)


@pytest.fixture
async def database(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """A new, empty database the churn settings (and so its Alembic env) point at."""
    name = f"mig_churn_units_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(stack.postgres_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = stack.database_url("churn").rsplit("/", 1)[0] + f"/{name}"
    monkeypatch.setenv(f"{SPEC.env_prefix}_DATABASE_URL", url)
    try:
        yield url.replace("postgresql+asyncpg://", "postgresql://")
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def test_stored_plural_time_units_become_singular(stack: Stack, database: str) -> None:
    config = Config(str(stack.config.repo_root / SPEC.alembic_ini))
    await asyncio.to_thread(command.upgrade, config, "0004")
    ids = {unit: uuid.uuid4() for unit in ("days", "weeks", "months")}
    conn = await asyncpg.connect(database)
    try:
        for unit, run_id in ids.items():
            await conn.execute(INSERT_RUN, run_id, unit)

        async def units() -> dict[str, str]:
            rows = await conn.fetch(
                "SELECT id, time_unit FROM churn_model_runs WHERE id = ANY($1::uuid[])", list(ids.values())
            )
            by_id = {row["id"]: row["time_unit"] for row in rows}
            return {unit: by_id[run_id] for unit, run_id in ids.items()}

        await asyncio.to_thread(command.upgrade, config, "head")
        assert await units() == {"days": "day", "weeks": "week", "months": "month"}
        await asyncio.to_thread(command.downgrade, config, "0004")
        assert await units() == {"days": "days", "weeks": "weeks", "months": "months"}
    finally:
        await conn.close()
