"""Settings of the sharing service (env prefix ``RELACJA_SHARING_``).

The ``webhook_*`` settings are the operator's switches of the webhook sender (docs/sharing.md,
"Webhooks"): plain http and loopback receivers are refused unless switched on, and never in
production; the retry schedule, the disabling window and the worker's limits.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from relacja_servicekit import ServiceSettings
from relacja_webhooks import RetryPolicy, UrlPolicy
from relacja_webhooks.schedule import DEFAULT_DELAYS

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
    webhook_allow_http: bool = Field(
        default=False, description="Accept plain http:// endpoint URLs (the local stack and tests only)"
    )
    webhook_allow_loopback: bool = Field(
        default=False,
        description="Accept endpoints on 127.0.0.0/8 and ::1 (the local stack and tests only; never in production)",
    )
    webhook_retry_schedule_seconds: list[float] = Field(
        default=[d.total_seconds() for d in DEFAULT_DELAYS],
        min_length=0,
        max_length=20,
        description="Delay before each retry after a failed attempt (the default: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h)",
    )
    webhook_retry_jitter: float = Field(default=0.1, ge=0, le=0.5, description="± this fraction on every delay")
    webhook_disable_after_hours: float = Field(
        default=120, gt=0, description="An endpoint failing every attempt for this long is disabled (5 days)"
    )
    webhook_timeout_seconds: float = Field(default=15, gt=0, le=60, description="One attempt, connect to last byte")
    webhook_secret_overlap_hours: float = Field(
        default=24, ge=0, description="After a rotation the old secret signs beside the new one this long"
    )
    webhook_max_in_flight: int = Field(default=200, ge=1, description="Attempts in flight per worker process")
    webhook_poll_interval_seconds: float = Field(
        default=0.1, gt=0, description="How often the worker looks while messages flow"
    )
    webhook_idle_poll_interval_seconds: float = Field(
        default=2.0,
        gt=0,
        description="The longest sleep of an idle worker: it backs off from the poll interval to this while "
        "nothing is due (a message queued after a quiet spell waits at most this long)",
    )
    webhook_log_retention_days: float = Field(
        default=35, ge=1, description="Finished messages and their attempts are kept this long"
    )
    run_webhooks: bool = Field(default=True, description="Run the webhook delivery worker in this process")

    @model_validator(mode="after")
    def _no_loopback_webhooks_in_production(self) -> SharingSettings:
        if self.environment == "production" and (self.webhook_allow_loopback or self.webhook_allow_http):
            raise ValueError("webhook_allow_loopback and webhook_allow_http are for local stacks, never production")
        return self

    def url_policy(self) -> UrlPolicy:
        return UrlPolicy(allow_http=self.webhook_allow_http, allow_loopback=self.webhook_allow_loopback)

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            delays=tuple(timedelta(seconds=s) for s in self.webhook_retry_schedule_seconds),
            jitter=self.webhook_retry_jitter,
            disable_after=timedelta(hours=self.webhook_disable_after_hours),
        )
