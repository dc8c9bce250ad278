"""Settings of the sharing service (env prefix ``RELACJA_SHARING_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from relacja_servicekit import ServiceSettings

__all__ = ["EVENT_SOURCE", "SharingSettings"]

EVENT_SOURCE = "/relacja/sharing"


class SharingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RELACJA_SHARING_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/relacja_sharing"
    feed_retention_days: float = Field(
        default=35,
        ge=30,
        description="How long feed records stay replayable (the feed promises at least 30 days)",
    )
    disclosure_retention_days: float = Field(
        default=3650,
        ge=30,
        description="How long the disclosure log is kept (default 10 years: the longest usual limitation period)",
    )
    housekeeping_interval_seconds: float = Field(
        default=3600, gt=0, description="How often expired feed records and disclosures are purged"
    )
    key_last_used_resolution_seconds: float = Field(
        default=60, ge=0, description="A key's last-used time is written at most once per this period"
    )
