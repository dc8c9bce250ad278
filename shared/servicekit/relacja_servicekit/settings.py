"""The settings base: one pydantic-settings class per service, one env prefix each.

    class CustomersSettings(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix="RELACJA_CUSTOMERS_")

Created once per process. Validators fail fast on values that are unsafe outside a
developer's machine.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ServiceSettings"]


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RELACJA_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL, postgresql+asyncpg://user@host:port/database",
    )
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_replication_factor: int = Field(default=1, ge=1, description="For topics the relay (re)declares")
    log_level: str = "INFO"
    run_relay: bool = Field(default=True, description="Run the outbox relay in this process")
    run_consumers: bool = Field(default=True, description="Run the event consumers in this process")
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Larger request bodies get 413")
    # One figure for every service's historical import (customers, orders), matching the
    # gateway's bulk_max_body_bytes, so a file the gateway lets through is never refused behind it.
    import_max_body_bytes: int = Field(
        default=1_073_741_824,
        ge=1024,
        description="Body limit of the service's import route (streamed; other routes keep max_body_bytes)",
    )
    db_pool_size: int = Field(default=10, ge=1)
    idempotency_key_retention_hours: float = Field(
        default=24, gt=0, description="How long an Idempotency-Key's stored response is replayed; older keys are purged"
    )
    inbox_retention_days: float = Field(
        default=30,
        ge=8,
        description="How long applied event ids are kept for de-duplication (beyond the 7-day outbox replay)",
    )
    retry_after_seconds: int = Field(default=5, ge=1, description="Retry-After on 503 while a dependency is down")

    @model_validator(mode="after")
    def _database_url_is_async(self) -> ServiceSettings:
        if self.database_url and not self.database_url.startswith("postgresql+asyncpg://"):
            raise ValueError("database_url must use the postgresql+asyncpg:// driver")
        return self

    @model_validator(mode="after")
    def _production_is_configured_explicitly(self) -> ServiceSettings:
        # The local defaults point at 127.0.0.1; in production a forgotten variable must
        # stop the process at start, not leave it running and never ready.
        if self.environment == "production":
            missing = [name for name in ("database_url", "kafka_bootstrap") if name not in self.model_fields_set]
            if missing:
                raise ValueError(f"production needs explicit settings: {', '.join(missing)}")
        return self
