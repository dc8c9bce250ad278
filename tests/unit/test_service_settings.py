"""Service settings fail fast on values that are unsafe outside a developer's machine."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from relacja_customers.settings import CustomersSettings


def test_development_runs_on_local_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RELACJA_CUSTOMERS_DATABASE_URL", raising=False)
    settings = CustomersSettings(environment="development")
    assert settings.database_url.endswith("@127.0.0.1:55432/relacja_customers")


def test_production_refuses_to_start_on_local_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RELACJA_CUSTOMERS_DATABASE_URL", raising=False)
    monkeypatch.delenv("RELACJA_CUSTOMERS_KAFKA_BOOTSTRAP", raising=False)
    with pytest.raises(ValidationError, match="database_url, kafka_bootstrap"):
        CustomersSettings(environment="production")


def test_production_accepts_explicit_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELACJA_CUSTOMERS_ENVIRONMENT", "production")
    monkeypatch.setenv("RELACJA_CUSTOMERS_DATABASE_URL", "postgresql+asyncpg://app@db:5432/relacja_customers")
    monkeypatch.setenv("RELACJA_CUSTOMERS_KAFKA_BOOTSTRAP", "kafka:9092")
    assert CustomersSettings().kafka_bootstrap == "kafka:9092"


def test_database_url_must_use_the_async_driver() -> None:
    with pytest.raises(ValidationError, match="asyncpg"):
        CustomersSettings(database_url="postgresql://app@db/relacja_customers")
