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

__all__ = ["GatewaySettings", "DEVELOPMENT_JWT_SECRET", "HmacAlgorithm"]

#: Known to everybody who reads this file, so it is refused in production.
DEVELOPMENT_JWT_SECRET = "relacja-development-secret-not-for-production"

HmacAlgorithm = Literal["HS256", "HS384", "HS512"]

# https://www.rfc-editor.org/rfc/rfc7518#section-3.2: "A key of the same size as the hash
# output (for instance, 256 bits for HS256) or larger MUST be used with this algorithm."
_MIN_KEY_BYTES: dict[str, int] = {"HS256": 32, "HS384": 48, "HS512": 64}


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RELACJA_GATEWAY_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    jwt_secret: str = Field(default=DEVELOPMENT_JWT_SECRET, repr=False, description="HMAC key that signs bearer tokens")
    jwt_algorithms: list[HmacAlgorithm] = Field(default=["HS256"], min_length=1)
    jwt_issuer: str | None = Field(default=None, description="Required `iss` claim, if set")
    jwt_audience: str | None = Field(default=None, description="Required `aud` claim, if set")
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300, description="Clock skew allowed on exp/nbf/iat")
    upstreams: dict[str, str] = Field(
        default_factory=dict,
        description='Service name → base URL, e.g. {"customers": "http://127.0.0.1:8101"}',
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Larger request bodies get 413")
    upstream_timeout_seconds: float = Field(default=10.0, gt=0, description="Connect/read/write/pool timeout per upstream call")
    readiness_timeout_seconds: float = Field(default=1.5, gt=0, le=2.0, description="Per-upstream /readyz probe timeout")
    max_upstream_connections: int = Field(default=100, ge=1, description="Connection pool size shared by all upstreams")
    retry_after_seconds: int = Field(default=5, ge=1, description="Retry-After on 503/504")
    log_level: str = "INFO"
    cors_origins: list[str] = Field(default_factory=list, description="Browser origins allowed by CORS")

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

    @model_validator(mode="after")
    def _secret_is_safe(self) -> GatewaySettings:
        if self.environment == "production" and self.jwt_secret == DEVELOPMENT_JWT_SECRET:
            raise ValueError("RELACJA_GATEWAY_JWT_SECRET must be set in production (the development default is public)")
        needed = max(_MIN_KEY_BYTES[algorithm] for algorithm in self.jwt_algorithms)
        if len(self.jwt_secret.encode()) < needed:
            raise ValueError(f"jwt_secret must be at least {needed} bytes for {', '.join(self.jwt_algorithms)} (RFC 7518 §3.2)")
        return self
