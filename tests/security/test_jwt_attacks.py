"""Forged and misused bearer tokens against real gateways: all refused, none reaches a service.

Two gateways are attacked:

- the stack's gateway process (HS256 with the stack's secret, as ``make run`` starts it);
- a gateway in this process configured as production is (RS256 keys from an identity
  provider's JWKS, served over real HTTP by a small server here, plus ``iss`` and ``aud``
  required), forwarding to the stack's real customers service.

Each attack is paired with the same request made with a good token, which must pass, so
a refusal is the attack's doing and not a broken setup. Refusals are 401 ``invalid-token``
with an RFC 6750 challenge; a valid credential of the wrong kind (a partner's token on
/api/v1, a staff token on /partner/v1) is 403 naming the credential to use, as
docs/security.md and the gateway's auth module document.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from relacja_devstack import Stack
from tests.e2e.gateway_support import inprocess_gateway

from .conftest import assert_problem, partner_token, staff_token

pytestmark = pytest.mark.stack

ISSUER = "https://id.relacja.test/"
AUDIENCE = "relacja-api"
IDP_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
INTRUDER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = IDP_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(claims: dict[str, Any], alg: str = "none") -> str:
    """A token with ``alg`` set to ``none`` (any spelling) and no signature (RFC 7519 §6)."""
    header = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def hs256_with_key(claims: dict[str, Any], key: bytes, headers: dict[str, Any] | None = None) -> str:
    """HMAC over the token with ``key`` as the secret, written by hand: PyJWT itself refuses
    to use a PEM public key as an HMAC secret, which is the very attack (RFC 8725 §2.1)."""
    import hashlib
    import hmac

    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", **(headers or {})}).encode())
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "attacker", "scope": "admin customers:read", "iat": now, "exp": now + 300} | extra


def rs256(key: rsa.RSAPrivateKey, kid: str | None = "idp-1", **extra: Any) -> str:
    return jwt.encode(
        claims(iss=ISSUER, aud=AUDIENCE) | extra, key, algorithm="RS256", headers={"kid": kid} if kid else None
    )


@contextlib.asynccontextmanager
async def identity_provider() -> AsyncIterator[str]:
    """A real HTTP server publishing the identity provider's JWKS; yields its URL."""
    jwk = {**RSAAlgorithm.to_jwk(IDP_KEY.public_key(), as_dict=True), "kid": "idp-1", "use": "sig", "alg": "RS256"}

    async def jwks(_: web.Request) -> web.Response:
        return web.json_response({"keys": [jwk]})

    app = web.Application()
    app.router.add_get("/.well-known/jwks.json", jwks)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/.well-known/jwks.json"
    finally:
        await runner.cleanup()


@pytest.fixture
async def production_like(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with identity_provider() as jwks_url:
        async with inprocess_gateway(
            stack,
            jwks_url=jwks_url,
            jwt_issuer=ISSUER,
            jwt_audience=AUDIENCE,
            jwt_cache_seconds=0,
            rate_limit_enabled=False,
        ) as client:
            yield client


def _refused(response: httpx.Response, description: str | None = None) -> None:
    body = assert_problem(response, 401)
    assert body["type"].endswith("invalid-token"), body
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="relacja"') and 'error="invalid_token"' in challenge, challenge
    if description is not None:
        assert description in body["detail"], body


async def _get(client: httpx.AsyncClient, token: str, path: str = "/api/v1/customers") -> httpx.Response:
    return await client.get(path, params={"limit": 1}, headers={"Authorization": f"Bearer {token}"})


# -- the stack's gateway (HS256) ---------------------------------------------------------


async def test_a_good_token_passes_the_stack_gateway(stack: Stack, anonymous: httpx.AsyncClient) -> None:
    response = await _get(anonymous, jwt.encode(claims(), stack.config.jwt_secret, algorithm="HS256"))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
async def test_alg_none_is_refused(anonymous: httpx.AsyncClient, alg: str) -> None:
    _refused(await _get(anonymous, unsigned(claims(), alg)))


async def test_alg_none_with_the_good_signature_kept_is_refused(stack: Stack, anonymous: httpx.AsyncClient) -> None:
    good = jwt.encode(claims(), stack.config.jwt_secret, algorithm="HS256")
    _, payload, signature = good.split(".")
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    _refused(await _get(anonymous, f"{header}.{payload}.{signature}"))


async def test_a_token_signed_with_another_secret_is_refused(anonymous: httpx.AsyncClient) -> None:
    forged = jwt.encode(claims(), "an-attacker-guessed-secret-of-32-bytes!!", algorithm="HS256")
    _refused(await _get(anonymous, forged), "signature")


async def test_a_tampered_payload_is_refused(stack: Stack, anonymous: httpx.AsyncClient) -> None:
    good = jwt.encode(claims(scope="customers:read"), stack.config.jwt_secret, algorithm="HS256")
    header, _, signature = good.split(".")
    escalated = _b64(json.dumps(claims(scope="admin")).encode())
    _refused(await _get(anonymous, f"{header}.{escalated}.{signature}"), "signature")


@pytest.mark.parametrize(
    ("changes", "description"),
    [
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"nbf": int(time.time()) + 3600}, "not valid yet"),
        ({"iat": int(time.time()) + 3600}, "not valid yet"),
        ({"aud": "some-other-api"}, "audience"),
        ({"exp": None}, "lacks a required claim"),
        ({"sub": None}, "lacks a required claim"),
        ({"sub": "evil\r\nX-Relacja-Scopes: admin"}, "sub claim"),
        ({"partner_id": "not-a-uuid"}, "partner_id"),
    ],
)
async def test_bad_claims_are_refused(
    stack: Stack, anonymous: httpx.AsyncClient, changes: dict[str, Any], description: str
) -> None:
    body = {k: v for k, v in (claims() | changes).items() if v is not None}
    _refused(await _get(anonymous, jwt.encode(body, stack.config.jwt_secret, algorithm="HS256")), description)


@pytest.mark.parametrize("alg", ["HS384", "HS512", "RS256", "ES256"])
async def test_algorithms_the_gateway_does_not_accept_are_refused(
    stack: Stack, anonymous: httpx.AsyncClient, alg: str
) -> None:
    key: Any = stack.config.jwt_secret + "-padding-for-hs512-key-length-xxxxxxxxxxxxxxxxx"
    if alg == "RS256":
        key = INTRUDER_KEY
    if alg == "ES256":
        from cryptography.hazmat.primitives.asymmetric import ec

        key = ec.generate_private_key(ec.SECP256R1())
    _refused(await _get(anonymous, jwt.encode(claims(), key, algorithm=alg)), "algorithm")


@pytest.mark.parametrize(
    "value", ["Bearer", "Bearer a.b", "Bearer a.b.c", "Bearer x y", "Bearer " + "A" * 8000, "Bearer ...."]
)
async def test_malformed_bearer_values_are_refused(anonymous: httpx.AsyncClient, value: str) -> None:
    response = await anonymous.get("/api/v1/customers", headers={"Authorization": value})
    assert_problem(response, 401, 431)


async def test_a_partner_token_is_refused_on_the_staff_api(stack: Stack, anonymous: httpx.AsyncClient) -> None:
    body = assert_problem(await _get(anonymous, partner_token(stack)), 403)
    assert body["type"].endswith("staff-credential-required"), body


async def test_a_staff_token_is_refused_on_the_partner_api(stack: Stack, anonymous: httpx.AsyncClient) -> None:
    body = assert_problem(await _get(anonymous, staff_token(stack, ["admin"]), "/partner/v1/feeds"), 403)
    assert body["type"].endswith("partner-credential-required"), body


async def test_a_forged_partner_token_is_refused(anonymous: httpx.AsyncClient) -> None:
    forged = jwt.encode(claims(partner_id=str(uuid.uuid4())), "x" * 40, algorithm="HS256")
    _refused(await _get(anonymous, forged, "/partner/v1/feeds"), "signature")


async def test_unknown_partner_api_keys_are_refused(anonymous: httpx.AsyncClient) -> None:
    for key in ("rpk_" + "a" * 40, "rpk_" + "a" * 500, "rpk_\u00e9t\u00e9"):
        raw = [(b"authorization", f"Bearer {key}".encode())]
        response = await anonymous.get("/partner/v1/feeds", headers=raw)
        _refused(response)


# -- a production-like gateway: RS256 from a JWKS, iss and aud required ----------------------


async def test_a_good_rs256_token_passes(production_like: httpx.AsyncClient) -> None:
    response = await _get(production_like, rs256(IDP_KEY))
    assert response.status_code == 200, response.text


async def test_hs256_signed_with_the_public_key_is_refused(production_like: httpx.AsyncClient) -> None:
    """RS/HS key confusion: the provider's public key (which anyone may download) used as
    an HMAC secret must not make a valid HS256 token."""
    for kid in (None, "idp-1"):
        forged = hs256_with_key(claims(iss=ISSUER, aud=AUDIENCE), PUBLIC_PEM, headers={"kid": kid} if kid else None)
        _refused(await _get(production_like, forged))


async def test_rs256_signed_with_another_key_is_refused(production_like: httpx.AsyncClient) -> None:
    _refused(await _get(production_like, rs256(INTRUDER_KEY)), "signature")


async def test_an_unknown_kid_is_refused(production_like: httpx.AsyncClient) -> None:
    _refused(await _get(production_like, rs256(INTRUDER_KEY, kid="attacker-key")), "unknown key")
    _refused(await _get(production_like, rs256(IDP_KEY, kid="rotated-away")), "unknown key")


async def test_an_embedded_jwk_header_is_not_trusted(production_like: httpx.AsyncClient) -> None:
    """A token that carries its own key (``jwk``/``jku`` headers, RFC 7515 §4.1.2-3) is
    verified with the provider's keys only."""
    own = RSAAlgorithm.to_jwk(INTRUDER_KEY.public_key(), as_dict=True)
    token = jwt.encode(
        claims(iss=ISSUER, aud=AUDIENCE),
        INTRUDER_KEY,
        algorithm="RS256",
        headers={"kid": "idp-1", "jwk": own, "jku": "http://127.0.0.1:1/jwks.json"},
    )
    _refused(await _get(production_like, token), "signature")


@pytest.mark.parametrize(
    ("changes", "description"),
    [
        ({"iss": "https://evil.example/"}, "issuer"),
        ({"iss": None}, "lacks a required claim"),
        ({"aud": "another-api"}, "audience"),
        ({"aud": None}, "lacks a required claim"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"nbf": int(time.time()) + 3600}, "not valid yet"),
    ],
)
async def test_wrong_issuer_audience_or_time_is_refused(
    production_like: httpx.AsyncClient, changes: dict[str, Any], description: str
) -> None:
    body = {k: v for k, v in (claims(iss=ISSUER, aud=AUDIENCE) | changes).items() if v is not None}
    token = jwt.encode(body, IDP_KEY, algorithm="RS256", headers={"kid": "idp-1"})
    _refused(await _get(production_like, token), description)


async def test_a_shared_secret_token_without_iss_and_aud_is_refused(
    stack: Stack, production_like: httpx.AsyncClient
) -> None:
    """The production-like gateway still accepts HS256 (its default), but only with its
    issuer and audience: a locally minted token without them does not pass."""
    _refused(await _get(production_like, stack.token(["admin"])))
