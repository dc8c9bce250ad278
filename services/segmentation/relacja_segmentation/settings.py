"""Settings of the segmentation service (env prefix ``RELACJA_SEGMENTATION_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from relacja_servicekit import ServiceSettings

from .domain.abc import AbcCutoffs
from .domain.loyalty import LoyaltyParams

__all__ = ["SegmentationSettings", "CONSUMER_NAME", "EVENT_SOURCE", "get_settings"]

# The consumer group and the inbox's consumer name: renaming it replays every event.
CONSUMER_NAME = "segmentation.projection"
EVENT_SOURCE = "/relacja/segmentation"


class SegmentationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RELACJA_SEGMENTATION_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/relacja_segmentation"
    currency: str = Field(
        default="PLN",
        pattern=r"^[A-Z]{3}$",
        description="Reporting currency: orders in others are left out of aggregates",
    )
    abc_cutoff_a: float = Field(default=0.80, gt=0, le=1, description="Cumulative revenue share closing class A")
    abc_cutoff_b: float = Field(default=0.95, gt=0, le=1, description="Cumulative revenue share closing class B")
    loyal_min_purchases: int = Field(default=2, ge=1)
    loyal_max_recency_days: int = Field(default=365, ge=1)
    recompute_interval_seconds: float = Field(
        default=3600, ge=0, description="Full recomputation period; 0 turns the schedule off"
    )

    @model_validator(mode="after")
    def _cutoffs_ordered(self) -> SegmentationSettings:
        AbcCutoffs(self.abc_cutoff_a, self.abc_cutoff_b)
        return self

    @property
    def abc_cutoffs(self) -> AbcCutoffs:
        return AbcCutoffs(self.abc_cutoff_a, self.abc_cutoff_b)

    @property
    def loyalty(self) -> LoyaltyParams:
        return LoyaltyParams(self.loyal_min_purchases, self.loyal_max_recency_days)


@lru_cache(maxsize=1)
def get_settings() -> SegmentationSettings:
    return SegmentationSettings()
