"""Minting tokens, and the CLI that prints one."""

from __future__ import annotations

import time

import jwt
import pytest
from starlette.datastructures import Headers

from relacja_gateway.auth import JwtBearerAuthenticator
from relacja_gateway.settings import DEVELOPMENT_JWT_SECRET
from relacja_gateway.tokens import main, mint_token
from relacja_servicekit.problems import Problem

SECRET = "token-test-secret-that-is-long-enough-for-hs256"


def test_minted_claims() -> None:
    claims = jwt.decode(mint_token(SECRET, "alice", ["customers:read", "admin"], 120), SECRET, algorithms=["HS256"])
    assert claims["sub"] == "alice"
    assert claims["scope"] == "customers:read admin"
    assert claims["exp"] - claims["iat"] == 120
    assert len(claims["jti"]) == 32


def test_two_tokens_are_distinct() -> None:
    assert mint_token(SECRET, "a", ["admin"]) != mint_token(SECRET, "a", ["admin"])


async def test_expired_minted_token_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    an_hour_ago = time.time() - 3600
    with monkeypatch.context() as patched:
        patched.setattr(time, "time", lambda: an_hour_ago)
        token = mint_token(SECRET, "alice", ["admin"], 60)
    authenticator = JwtBearerAuthenticator(SECRET, ["HS256"])
    with pytest.raises(Problem) as caught:
        await authenticator.authenticate(Headers({"authorization": f"Bearer {token}"}))
    assert caught.value.status == 401 and "expired" in caught.value.headers["WWW-Authenticate"]


async def test_wrong_secret_is_refused() -> None:
    token = mint_token(SECRET, "alice", ["admin"])
    authenticator = JwtBearerAuthenticator("some-other-secret-that-is-long-enough-x", ["HS256"])
    with pytest.raises(Problem):
        await authenticator.authenticate(Headers({"authorization": f"Bearer {token}"}))


@pytest.mark.parametrize(("scopes", "ttl"), [(["has space"], 60), (['quote"'], 60), (["admin"], 0)])
def test_bad_input_is_refused(scopes: list[str], ttl: int) -> None:
    with pytest.raises(ValueError):
        mint_token(SECRET, "a", scopes, ttl)


def test_cli_prints_only_a_token_signed_with_the_configured_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RELACJA_GATEWAY_JWT_SECRET", SECRET)
    main(["--scopes", "admin", "customers:read", "--ttl", "600", "--subject", "ops"])
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    claims = jwt.decode(out.strip(), SECRET, algorithms=["HS256"])
    assert (claims["sub"], claims["scope"], claims["exp"] - claims["iat"]) == ("ops", "admin customers:read", 600)


def test_cli_uses_the_development_secret_by_default(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RELACJA_GATEWAY_JWT_SECRET", raising=False)
    monkeypatch.delenv("RELACJA_GATEWAY_ENVIRONMENT", raising=False)
    main(["--scopes", "admin"])
    assert (
        jwt.decode(capsys.readouterr().out.strip(), DEVELOPMENT_JWT_SECRET, algorithms=["HS256"])["sub"]
        == "local-admin"
    )
