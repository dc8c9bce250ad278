"""Every service's migrations end in exactly one head, so ``alembic upgrade head`` (what
the Kubernetes Jobs and docker-compose run) reaches the latest schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.parent for p in (ROOT / "services").glob("*/alembic.ini"))


@pytest.mark.parametrize("service", SERVICES, ids=[s.name for s in SERVICES])
def test_migrations_have_one_head(service: Path) -> None:
    script = ScriptDirectory.from_config(Config(str(service / "alembic.ini")))
    assert len(script.get_heads()) == 1, script.get_heads()


def test_every_service_with_a_database_has_migrations() -> None:
    assert {s.name for s in SERVICES} >= {"customers", "segmentation"}
