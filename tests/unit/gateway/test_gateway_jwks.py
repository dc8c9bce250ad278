"""RS256 bearer tokens verified with keys from a JWKS, beside HS256: RSA keys made in the
test, the identity provider's JWKS served by the mock transport (an in-process double)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from gateway_doubles import SECRET, Upstream, make_settings
from jwt.algorithms import RSAAlgorithm

from relacja_gateway.app import create_app
from relacja_gateway.tokens import mint_token

JWKS_URL = "https://id.example.test/.well-known/jwks.json"
KEY_1 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEY_2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
INTRUDER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    return {**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, "use": "sig", "alg": "RS256"}


def rs256(
    key: rsa.RSAPrivateKey, kid: str | None, *, subject: str = "idp-user", scope: str = "customers:read", ttl: int = 300
) -> str:
    claims = {"sub": subject, "scope": scope, "exp": int(time.time()) + ttl}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid} if kid else None)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class IdentityProvider:
    """Serves the JWKS (and 200 for every service call)."""

    def __init__(self, upstream: Upstream) -> None:
        self.keys = [jwk(KEY_1, "k1")]
        self.fetches = 0
        self.up = True
        upstream.handler = self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == JWKS_URL:
            if not self.up:
                raise httpx.ConnectError("refused")
            self.fetches += 1
            return httpx.Response(200, json={"keys": self.keys})
        return httpx.Response(200, json={"ok": True})


@pytest.fixture
def idp(upstream: Upstream) -> IdentityProvider:
    return IdentityProvider(upstream)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def client(upstream: Upstream, idp: IdentityProvider, clock: Clock) -> Any:
    # No verified-token cache: these tests follow keys being rotated, and a cached token
    # would outlive its key by up to jwt_cache_seconds (test_gateway_auth.py covers that).
    settings = make_settings(
        jwks_url=JWKS_URL, jwks_refresh_seconds=300, jwks_min_refresh_seconds=10, jwt_cache_seconds=0
    )
    app = create_app(settings, transport=httpx.MockTransport(upstream), clock=clock)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
            yield c


async def get(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/v1/customers/1", headers={"Authorization": f"Bearer {token}"})


async def test_rs256_tokens_from_the_jwks_are_accepted(
    client: httpx.AsyncClient, upstream: Upstream, idp: IdentityProvider
) -> None:
    response = await get(client, rs256(KEY_1, "k1", subject="ada"))
    assert response.status_code == 200
    assert upstream.last.headers["x-relacja-principal"] == "ada"
    assert (await get(client, rs256(KEY_1, "k1"))).status_code == 200
    assert idp.fetches == 1  # cached


async def test_hs256_keeps_working_beside_it(client: httpx.AsyncClient) -> None:
    assert (await get(client, mint_token(SECRET, "local", ["customers:read"]))).status_code == 200


async def test_an_unknown_kid_fetches_the_set_again_once(
    client: httpx.AsyncClient, idp: IdentityProvider, clock: Clock
) -> None:
    assert (await get(client, rs256(KEY_1, "k1"))).status_code == 200
    idp.keys.append(jwk(KEY_2, "k2"))  # the provider rotates in a new key
    assert (await get(client, rs256(KEY_2, "k2"))).status_code == 401  # moments after a fetch: not asked again yet
    clock.now += 11
    assert (await get(client, rs256(KEY_2, "k2"))).status_code == 200
    assert idp.fetches == 2
    for _ in range(5):  # made-up kids do not make the gateway hammer the provider
        response = await get(client, rs256(INTRUDER, "made-up"))
        assert response.status_code == 401
    assert 'error_description="The access token was signed with an unknown key"' in response.headers["www-authenticate"]
    assert idp.fetches == 2
    clock.now += 11
    assert (await get(client, rs256(INTRUDER, "made-up"))).status_code == 401
    assert idp.fetches == 3


async def test_the_set_is_refreshed_periodically_and_kept_if_the_provider_is_down(
    client: httpx.AsyncClient, idp: IdentityProvider, clock: Clock
) -> None:
    assert (await get(client, rs256(KEY_1, "k1"))).status_code == 200
    clock.now += 301
    idp.up = False
    assert (await get(client, rs256(KEY_1, "k1"))).status_code == 200  # the cached keys still serve
    idp.up = True
    idp.keys = [jwk(KEY_2, "k2")]  # k1 withdrawn
    clock.now += 11
    assert (await get(client, rs256(KEY_1, "k1"))).status_code == 401
    assert idp.fetches == 2


async def test_a_forged_or_expired_token_is_401(client: httpx.AsyncClient) -> None:
    forged = await get(client, rs256(INTRUDER, "k1"))
    assert forged.status_code == 401 and "signature does not verify" in forged.headers["www-authenticate"]
    expired = await get(client, rs256(KEY_1, "k1", ttl=-100))
    assert expired.status_code == 401 and "expired" in expired.headers["www-authenticate"]


async def test_the_public_key_cannot_be_used_as_an_hmac_secret(client: httpx.AsyncClient) -> None:
    pem = KEY_1.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = jwt.utils.base64url_encode(b'{"alg":"HS256","typ":"JWT","kid":"k1"}')
    payload = jwt.utils.base64url_encode(f'{{"sub":"mallory","scope":"admin","exp":{int(time.time()) + 300}}}'.encode())
    import hashlib
    import hmac

    signature = jwt.utils.base64url_encode(hmac.new(pem, header + b"." + payload, hashlib.sha256).digest())
    confused = (header + b"." + payload + b"." + signature).decode()
    assert (await get(client, confused)).status_code == 401


async def test_algorithms_outside_the_lists_are_refused(client: httpx.AsyncClient) -> None:
    # PyJWT's "none" algorithm treats an empty key as no key; its key parameter is not typed to take None.
    unsigned = jwt.encode({"sub": "x", "scope": "admin", "exp": int(time.time()) + 60}, "", algorithm="none")
    response = await get(client, unsigned)
    assert response.status_code == 401 and "algorithm that is not accepted" in response.headers["www-authenticate"]


async def test_no_keys_at_all_is_503_not_401(upstream: Upstream, idp: IdentityProvider) -> None:
    idp.up = False
    app = create_app(make_settings(jwks_url=JWKS_URL), transport=httpx.MockTransport(upstream))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
            response = await get(c, rs256(KEY_1, "k1"))
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert "id.example.test" not in response.text


async def test_jwks_only_needs_no_hmac(upstream: Upstream, idp: IdentityProvider) -> None:
    app = create_app(make_settings(jwks_url=JWKS_URL, jwt_algorithms=[]), transport=httpx.MockTransport(upstream))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
            assert (await get(c, rs256(KEY_1, "k1"))).status_code == 200
            assert (await get(c, mint_token(SECRET, "local", ["customers:read"]))).status_code == 401
