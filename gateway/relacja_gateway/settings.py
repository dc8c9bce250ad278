"""``GatewaySettings``: the gateway's configuration, read once per process from the environment.

Every field comes from ``RELACJA_GATEWAY_<FIELD>``; dict and list fields are JSON:

    RELACJA_GATEWAY_ENVIRONMENT=production
    RELACJA_GATEWAY_JWT_SECRET=...                         # 32+ bytes for HS256
    RELACJA_GATEWAY_UPSTREAMS='{"customers": "http://127.0.0.1:8101"}'
    RELACJA_GATEWAY_CORS_ORIGINS='["https://crm.example.com"]'

The gateway has no database or broker, so this is its own ``BaseSettings`` rather than a
``ServiceSettings`` subclass. Validators fail fast on values that are unsafe outside a
developer's machine: the well-known development secret, or a key shorter than the hash.
"""

from __future__ import annotations

from typing import Literal

import httpx
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["GatewaySettings", "DEVELOPMENT_JWT_SECRET", "AsymmetricAlgorithm", "HmacAlgorithm"]

#: Known to everybody who reads this file, so it is refused in production.
DEVELOPMENT_JWT_SECRET = "relacja-development-secret-not-for-production"

HmacAlgorithm = Literal["HS256", "HS384", "HS512"]
AsymmetricAlgorithm = Literal["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]

# https://www.rfc-editor.org/rfc/rfc7518#section-3.2: "A key of the same size as the hash
# output (for instance, 256 bits for HS256) or larger MUST be used with this algorithm."
_MIN_KEY_BYTES: dict[str, int] = {"HS256": 32, "HS384": 48, "HS512": 64}


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RELACJA_GATEWAY_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    jwt_secret: str = Field(default=DEVELOPMENT_JWT_SECRET, repr=False, description="HMAC key that signs bearer tokens")
    jwt_algorithms: list[HmacAlgorithm] = Field(
        default=["HS256"], description="Accepted HMAC algorithms; [] turns HMAC tokens off (needs jwks_url)"
    )
    jwt_issuer: str | None = Field(default=None, description="Required `iss` claim, if set")
    jwt_audience: str | None = Field(default=None, description="Required `aud` claim, if set")
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300, description="Clock skew allowed on exp/nbf/iat")
    jwt_cache_seconds: float = Field(
        default=60.0,
        ge=0,
        le=3600,
        description="How long a verified token is remembered (never past its exp); 0 turns the cache off",
    )
    jwt_cache_size: int = Field(
        default=10_000, ge=1, description="Verified tokens remembered at most (the oldest are forgotten first)"
    )
    upstreams: dict[str, str] = Field(
        default_factory=dict,
        description='Service name → base URL, e.g. {"customers": "http://127.0.0.1:8101"}',
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Larger request bodies get 413")
    upstream_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Connect/read/write/pool timeout per upstream call"
    )
    # The BULK route profile (routes.py): every historical import route takes these two.
    bulk_max_body_bytes: int = Field(
        default=1_073_741_824,
        ge=1024,
        description="Larger bodies get 413 on bulk (import) routes; streamed, never held in memory",
    )
    bulk_timeout_seconds: float = Field(default=120.0, gt=0, description="Upstream timeout of bulk (import) routes")
    readiness_timeout_seconds: float = Field(
        default=1.5, gt=0, le=2.0, description="Per-upstream /readyz probe timeout"
    )
    max_upstream_connections: int = Field(default=100, ge=1, description="Connection pool size shared by all upstreams")
    retry_after_seconds: int = Field(default=5, ge=1, description="Retry-After on 503/504")
    log_level: str = "INFO"
    cors_origins: list[str] = Field(default_factory=list, description="Browser origins allowed by CORS")

    # -- limits (ratelimit.py) ------------------------------------------------------------
    rate_limit_enabled: bool = True
    rate_limit_rate: float = Field(default=50.0, gt=0, description="Requests per second per caller, sustained")
    rate_limit_burst: int = Field(default=200, ge=1, description="Requests per caller at once (token bucket size)")
    # Partners are machines polling feeds, not people behind a frontend: their own figures,
    # one bucket per partner whatever key or client it uses.
    partner_rate_limit_rate: float = Field(default=20.0, gt=0, description="Requests per second per partner, sustained")
    partner_rate_limit_burst: int = Field(default=100, ge=1, description="Requests per partner at once")

    # -- partner credentials (partners.py) ---------------------------------------------------
    partner_introspection_timeout_seconds: float = Field(
        default=2.0, gt=0, le=30, description="Timeout of the sharing service's check of one partner API key"
    )

    # -- resilience (retries.py, breaker.py) ------------------------------------------------
    retry_attempts: int = Field(
        default=2, ge=0, le=5, description="Retries of an idempotent request after a connect error or 503"
    )
    retry_backoff_seconds: float = Field(default=0.05, ge=0, description="Base of the jittered exponential backoff")
    retry_backoff_max_seconds: float = Field(default=1.0, ge=0, description="Cap of one backoff pause")
    retry_budget_ratio: float = Field(
        default=0.2, ge=0, le=1, description="Retries allowed per request to an upstream, over the window"
    )
    retry_budget_min_retries: int = Field(
        default=3, ge=0, description="Retries always allowed per window, however low the traffic"
    )
    retry_budget_window_seconds: float = Field(default=10.0, gt=0)
    breaker_consecutive_failures: int = Field(
        default=5, ge=1, description="Consecutive failures that open an upstream's circuit"
    )
    breaker_failure_rate: float = Field(
        default=0.5, gt=0, le=1, description="Failure rate over the window that opens the circuit"
    )
    breaker_minimum_calls: int = Field(
        default=20, ge=1, description="Calls in the window before the failure rate counts"
    )
    breaker_window_seconds: float = Field(default=10.0, gt=0)
    breaker_open_seconds: float = Field(default=5.0, gt=0, description="Cool-down before a half-open trial call")

    # -- composed views and documents ---------------------------------------------------------
    customer360_part_timeout_seconds: float = Field(
        default=0.3, gt=0, le=10, description="Deadline of each part of the customer 360 view"
    )
    openapi_refresh_seconds: float = Field(
        default=60.0, gt=0, description="Age after which the merged OpenAPI is fetched again"
    )
    openapi_fetch_at_start: bool = Field(
        default=True, description="Fetch the services' OpenAPI documents when the gateway starts"
    )
    openapi_fetch_timeout_seconds: float = Field(
        default=2.0, gt=0, le=30, description="Timeout of one service's /openapi.json"
    )

    # -- RS256 bearer tokens from an identity provider (jwks.py) ---------------------------------
    jwks_url: str | None = Field(
        default=None, description="JSON Web Key Set of the identity provider; enables asymmetric tokens"
    )
    jwks_algorithms: list[AsymmetricAlgorithm] = Field(default=["RS256"], min_length=1)
    jwks_refresh_seconds: float = Field(default=300.0, gt=0, description="Age after which the key set is fetched again")
    jwks_min_refresh_seconds: float = Field(
        default=10.0, ge=0, description="Least time between fetches caused by an unknown kid"
    )
    jwks_timeout_seconds: float = Field(default=2.0, gt=0, le=30)

    @field_validator("upstreams")
    @classmethod
    def _upstreams_are_http_urls(cls, value: dict[str, str]) -> dict[str, str]:
        cleaned: dict[str, str] = {}
        for name, raw in value.items():
            url = httpx.URL(raw)
            if url.scheme not in ("http", "https") or not url.host or url.query or url.fragment:
                raise ValueError(f"upstream {name!r} must be an http(s) base URL without query, got {raw!r}")
            cleaned[name] = raw.rstrip("/")  # request paths start with "/"
        return cleaned

    @field_validator("jwks_url")
    @classmethod
    def _jwks_url_is_http(cls, value: str | None) -> str | None:
        if value is not None and httpx.URL(value).scheme not in ("http", "https"):
            raise ValueError(f"jwks_url must be an http(s) URL, got {value!r}")
        return value

    @model_validator(mode="after")
    def _secret_is_safe(self) -> GatewaySettings:
        if not self.jwt_algorithms:
            if self.jwks_url is None:
                raise ValueError("jwt_algorithms may only be empty when jwks_url is set: no token could be verified")
            return self
        if self.environment == "production" and self.jwt_secret == DEVELOPMENT_JWT_SECRET:
            raise ValueError("RELACJA_GATEWAY_JWT_SECRET must be set in production (the development default is public)")
        needed = max(_MIN_KEY_BYTES[algorithm] for algorithm in self.jwt_algorithms)
        if len(self.jwt_secret.encode()) < needed:
            raise ValueError(
                f"jwt_secret must be at least {needed} bytes for {', '.join(self.jwt_algorithms)} (RFC 7518 §3.2)"
            )
        return self
