"""Settings of the recommendations service (env prefix ``RELACJA_RECOMMENDATIONS_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from relacja_servicekit import ServiceSettings
from relacja_servicekit.customer_directory import CustomerDirectorySettings

__all__ = ["CONSUMER_NAME", "EVENT_SOURCE", "RecommendationsSettings", "get_settings"]

# The consumer group and the inbox's consumer name: renaming it replays every event.
CONSUMER_NAME = "recommendations.projection"
EVENT_SOURCE = "/relacja/recommendations"


class RecommendationsSettings(ServiceSettings, CustomerDirectorySettings):
    model_config = SettingsConfigDict(env_prefix="RELACJA_RECOMMENDATIONS_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/relacja_recommendations"
    window_days: int = Field(
        default=365, ge=1, le=3650, description="Pair statistics count the baskets of the last this many days"
    )
    min_count: int = Field(default=2, ge=1, description="A pair is used only when bought together this often")
    min_support: float = Field(
        default=0.0, ge=0, le=1, description="A pair is used only when this share of all baskets holds it"
    )
    min_lift: float = Field(default=1.0, ge=0, description="Customer suggestions use pairs with at least this lift")
    recent_baskets: int = Field(
        default=5, ge=1, le=100, description="How many of a customer's latest baskets suggestions start from"
    )
    repurchasable_categories: list[str] = Field(
        default_factory=list,
        description="Consumables: products of these categories are suggested again after they were bought",
    )
    announce_interval_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How often changed suggestions are announced (recommendations.refreshed); 0 turns it off",
    )
    recompute_interval_seconds: float = Field(
        default=86_400, ge=0, description="Full recomputation of the pair statistics; 0 turns the schedule off"
    )


@lru_cache(maxsize=1)
def get_settings() -> RecommendationsSettings:
    return RecommendationsSettings()
