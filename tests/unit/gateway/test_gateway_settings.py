"""GatewaySettings: environment parsing and the fail-fast validators."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from relacja_gateway.settings import DEVELOPMENT_JWT_SECRET, GatewaySettings

STRONG = "a-production-secret-of-more-than-thirty-two-bytes"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("RELACJA_GATEWAY_"):
            monkeypatch.delenv(name)


def test_development_defaults() -> None:
    settings = GatewaySettings()
    assert settings.environment == "development"
    assert settings.jwt_secret == DEVELOPMENT_JWT_SECRET
    assert settings.jwt_algorithms == ["HS256"]
    assert settings.max_body_bytes == 1_048_576
    assert (settings.bulk_max_body_bytes, settings.bulk_timeout_seconds) == (1 << 30, 120.0)
    assert settings.upstreams == {} and settings.cors_origins == []


def test_the_development_secret_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="must be set in production"):
        GatewaySettings(environment="production")
    assert GatewaySettings(environment="production", jwt_secret=STRONG).jwt_secret == STRONG


@pytest.mark.parametrize(("secret", "algorithms"), [("short", ["HS256"]), ("x" * 40, ["HS256", "HS512"])])
def test_keys_shorter_than_the_hash_are_refused(secret: str, algorithms: list[str]) -> None:
    with pytest.raises(ValidationError, match="at least"):
        GatewaySettings(jwt_secret=secret, jwt_algorithms=algorithms)


def test_only_hmac_algorithms_are_accepted() -> None:
    with pytest.raises(ValidationError):
        GatewaySettings(jwt_algorithms=["none"])


def test_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELACJA_GATEWAY_ENVIRONMENT", "production")
    monkeypatch.setenv("RELACJA_GATEWAY_JWT_SECRET", STRONG)
    monkeypatch.setenv(
        "RELACJA_GATEWAY_UPSTREAMS", '{"customers": "http://127.0.0.1:8101/", "segmentation": "https://seg.internal"}'
    )
    monkeypatch.setenv("RELACJA_GATEWAY_CORS_ORIGINS", '["https://crm.example.com"]')
    monkeypatch.setenv("RELACJA_GATEWAY_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("RELACJA_GATEWAY_BULK_MAX_BODY_BYTES", "4194304")
    monkeypatch.setenv("RELACJA_GATEWAY_BULK_TIMEOUT_SECONDS", "300")
    settings = GatewaySettings()
    assert (settings.bulk_max_body_bytes, settings.bulk_timeout_seconds) == (4_194_304, 300.0)
    assert settings.upstreams == {"customers": "http://127.0.0.1:8101", "segmentation": "https://seg.internal"}
    assert settings.cors_origins == ["https://crm.example.com"]
    assert settings.max_body_bytes == 2048


@pytest.mark.parametrize("url", ["ftp://host", "customers:8101", "http://host/?a=1", "http:///nohost"])
def test_upstreams_must_be_http_base_urls(url: str) -> None:
    with pytest.raises(ValidationError):
        GatewaySettings(upstreams={"customers": url})


def test_the_secret_is_not_in_the_repr() -> None:
    assert STRONG not in repr(GatewaySettings(jwt_secret=STRONG))


def test_hmac_can_be_turned_off_only_with_a_jwks() -> None:
    with pytest.raises(ValidationError, match="jwks_url"):
        GatewaySettings(jwt_algorithms=[])
    settings = GatewaySettings(environment="production", jwt_algorithms=[], jwks_url="https://id.example.com/jwks.json")
    assert settings.jwt_algorithms == [] and settings.jwks_algorithms == ["RS256"]


@pytest.mark.parametrize("url", ["file:///etc/keys.json", "id.example.com/jwks"])
def test_the_jwks_url_must_be_http(url: str) -> None:
    with pytest.raises(ValidationError):
        GatewaySettings(jwks_url=url)


def test_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELACJA_GATEWAY_RATE_LIMIT_RATE", "2.5")
    monkeypatch.setenv("RELACJA_GATEWAY_RATE_LIMIT_BURST", "10")
    monkeypatch.setenv("RELACJA_GATEWAY_CUSTOMER360_PART_TIMEOUT_SECONDS", "0.5")
    settings = GatewaySettings()
    assert (settings.rate_limit_rate, settings.rate_limit_burst, settings.customer360_part_timeout_seconds) == (
        2.5,
        10,
        0.5,
    )
