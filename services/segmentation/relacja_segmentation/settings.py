"""Settings of the segmentation service (env prefix ``RELACJA_SEGMENTATION_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from relacja_servicekit import ServiceSettings

__all__ = ["SegmentationSettings", "CONSUMER_NAME"]

# The consumer group and the inbox's consumer name: renaming it replays every event.
CONSUMER_NAME = "segmentation.projection"


class SegmentationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RELACJA_SEGMENTATION_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/relacja_segmentation"
