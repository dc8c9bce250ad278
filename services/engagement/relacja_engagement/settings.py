"""Settings of the engagement service (env prefix ``RELACJA_ENGAGEMENT_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from relacja_servicekit import ServiceSettings
from relacja_servicekit.customer_directory import CustomerDirectorySettings

__all__ = ["EVENT_SOURCE", "EngagementSettings", "get_settings"]

EVENT_SOURCE = "/relacja/engagement"


class EngagementSettings(ServiceSettings, CustomerDirectorySettings):
    # customers_url, customers_timeout_seconds: the read-through of a customer's contact details
    model_config = SettingsConfigDict(env_prefix="RELACJA_ENGAGEMENT_", extra="ignore")

    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/relacja_engagement"
    loyalty_url: str = Field(
        default="http://127.0.0.1:8107",
        description="Internal base URL of the loyalty service (personal coupons from an offer)",
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8080",
        description="Where links in messages point (the gateway's public address): review and unsubscribe links",
    )
    # E-mail: one SMTP server; TLS and credentials by configuration.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=8025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS")
    smtp_tls: bool = Field(default=False, description="Implicit TLS from the first byte (port 465)")
    smtp_timeout_seconds: float = Field(default=10, gt=0)
    smtp_connections: int = Field(default=4, ge=1, le=64, description="Parallel SMTP connections of the sender")
    mail_from: str = Field(default="Relacja <no-reply@relacja.local>", description="The From header of e-mails")
    # SMS and push: signed webhooks (relacja_webhooks) to the provider's endpoint.
    sms_webhook_url: str | None = Field(default=None, description="The SMS provider's endpoint; unset: SMS fails")
    push_webhook_url: str | None = Field(default=None, description="The push provider's endpoint; unset: push fails")
    provider_webhook_secret: SecretStr | None = Field(
        default=None, description="whsec_ secret the provider checks the SMS / push webhooks' signatures with"
    )
    webhook_allow_http: bool = Field(default=False, description="Allow http:// provider endpoints (local stack)")
    webhook_allow_loopback: bool = Field(default=False, description="Allow loopback provider endpoints (local stack)")
    # The sender worker.
    sender_interval_seconds: float = Field(default=1.0, gt=0, description="How often the sender looks for due messages")
    sender_batch_size: int = Field(default=200, ge=1, le=10_000, description="Messages one sender pass claims")
    max_attempts: int = Field(default=5, ge=1, le=20, description="Delivery attempts before a message is failed")
    retry_base_seconds: float = Field(default=30, gt=0, description="First retry delay; doubles per attempt")
    default_time_zone: str = Field(
        default="Europe/Warsaw", description="Quiet hours of a customer whose address names no known country"
    )

    # Reviews (app/reviews.py).
    review_request_valid_days: int = Field(
        default=30, ge=1, le=365, description="How long a review request's link can be used"
    )

    @model_validator(mode="after")
    def _peers_explicit_in_production(self) -> EngagementSettings:
        if self.environment == "production":
            missing = [n for n in ("loyalty_url", "public_base_url", "smtp_host") if n not in self.model_fields_set]
            if missing:
                raise ValueError(f"production needs explicit settings: {', '.join(missing)}")
        return self


@lru_cache(maxsize=1)
def get_settings() -> EngagementSettings:
    return EngagementSettings()
