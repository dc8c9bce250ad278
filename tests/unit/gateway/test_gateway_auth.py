"""Authentication (JWT bearer tokens) and authorisation (scope decisions)."""

from __future__ import annotations

import time

import jwt
import pytest
from starlette.datastructures import Headers

from relacja_gateway.auth import (
    Authenticator,
    JwtBearerAuthenticator,
    Principal,
    authenticate,
    authorize,
    parse_scopes,
    parse_team_and_roles,
)
from relacja_gateway.tokens import mint_token
from relacja_servicekit.problems import Problem

SECRET = "auth-test-secret-that-is-long-enough-for-hs256"
JWT = JwtBearerAuthenticator(SECRET, ["HS256"], leeway_seconds=0)


def bearer(token: str, scheme: str = "Bearer") -> Headers:
    return Headers({"authorization": f"{scheme} {token}"})


def encode(**claims: object) -> str:
    now = int(time.time())
    return jwt.encode({"sub": "user-1", "iat": now, "exp": now + 60, **claims}, SECRET, algorithm="HS256")


async def rejected(authenticator: JwtBearerAuthenticator, headers: Headers) -> Problem:
    with pytest.raises(Problem) as caught:
        await authenticator.authenticate(headers)
    assert caught.value.status == 401
    return caught.value


# -- Principal and scope decisions ------------------------------------------------------


def test_a_principal_has_its_scopes_only() -> None:
    principal = Principal("u", "user", frozenset({"customers:read"}))
    assert principal.has_scope("customers:read")
    assert not principal.has_scope("customers:write")


def test_admin_satisfies_every_scope() -> None:
    assert Principal("u", "user", frozenset({"admin"})).has_scope("tickets:write")


def test_public_routes_need_nobody() -> None:
    authorize(None, None, [JWT])


def test_no_principal_on_a_protected_route_is_401_with_a_bare_challenge() -> None:
    with pytest.raises(Problem) as caught:
        authorize("customers:read", None, [JWT])
    assert caught.value.status == 401
    # RFC 6750 §3.1: no error code when the request had no credentials at all.
    assert caught.value.headers["WWW-Authenticate"] == 'Bearer realm="relacja"'


def test_missing_scope_is_403_naming_the_scope() -> None:
    with pytest.raises(Problem) as caught:
        authorize("customers:write", Principal("u", "user", frozenset({"customers:read"})), [JWT])
    assert caught.value.status == 403
    challenge = caught.value.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="insufficient_scope"' in challenge and 'scope="customers:write"' in challenge


def test_the_right_scope_passes() -> None:
    authorize("customers:write", Principal("u", "user", frozenset({"customers:write"})), [JWT])


# -- JWT bearer tokens ------------------------------------------------------------------


async def test_a_minted_token_verifies_into_a_user_principal() -> None:
    token = mint_token(SECRET, "user-7", ["customers:read", "analytics:read"], 60)
    principal = await JWT.authenticate(bearer(token))
    assert principal == Principal("user-7", "user", frozenset({"customers:read", "analytics:read"}))


async def test_the_scheme_is_case_insensitive() -> None:
    assert await JWT.authenticate(bearer(encode(scope="a:read"), scheme="bEaReR")) is not None


@pytest.mark.parametrize("headers", [Headers({}), Headers({"authorization": "Basic dXNlcjpwdw=="})])
async def test_no_bearer_credentials_means_no_principal(headers: Headers) -> None:
    assert await JWT.authenticate(headers) is None


async def test_expired_token() -> None:
    problem = await rejected(JWT, bearer(encode(exp=int(time.time()) - 5)))
    challenge = problem.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="relacja", error="invalid_token"')
    assert 'error_description="The access token expired"' in challenge


async def test_leeway_tolerates_small_clock_skew() -> None:
    skewed = JwtBearerAuthenticator(SECRET, ["HS256"], leeway_seconds=30)
    assert await skewed.authenticate(bearer(encode(exp=int(time.time()) - 5))) is not None


async def test_wrong_secret() -> None:
    token = mint_token("another-secret-that-is-long-enough-for-hs256", "u", ["admin"], 60)
    problem = await rejected(JWT, bearer(token))
    assert "signature" in problem.headers["WWW-Authenticate"]


@pytest.mark.parametrize("claim", ["nbf", "iat"])
async def test_tokens_from_the_future_are_refused(claim: str) -> None:
    problem = await rejected(JWT, bearer(encode(**{claim: int(time.time()) + 120})))
    assert "not valid yet" in problem.headers["WWW-Authenticate"]


async def test_exp_is_required() -> None:
    token = jwt.encode({"sub": "u", "scope": "admin"}, SECRET, algorithm="HS256")
    await rejected(JWT, bearer(token))


async def test_unsigned_tokens_are_refused() -> None:
    # PyJWT's "none" algorithm treats an empty key as no key; its key parameter is not typed to take None.
    token = jwt.encode({"sub": "u", "exp": int(time.time()) + 60, "scope": "admin"}, "", algorithm="none")
    await rejected(JWT, bearer(token))


@pytest.mark.parametrize("value", ["", "not-a-jwt", "a b"])
async def test_malformed_bearer_values(value: str) -> None:
    await rejected(JWT, Headers({"authorization": f"Bearer {value}"}))


async def test_issuer_and_audience_when_configured() -> None:
    strict = JwtBearerAuthenticator(SECRET, ["HS256"], issuer="https://id.relacja", audience="relacja-api")
    assert await strict.authenticate(bearer(encode(iss="https://id.relacja", aud="relacja-api"))) is not None
    await rejected(strict, bearer(encode(iss="https://evil", aud="relacja-api")))
    await rejected(strict, bearer(encode(iss="https://id.relacja", aud="other-api")))
    await rejected(strict, bearer(encode()))


async def test_a_token_for_some_audience_is_refused_when_none_is_expected() -> None:
    await rejected(JWT, bearer(encode(aud="other-api")))


@pytest.mark.parametrize("subject", ["has space", "line\nbreak", "x" * 256])
async def test_subjects_must_be_safe_to_put_in_a_header(subject: str) -> None:
    await rejected(JWT, bearer(encode(sub=subject)))


def test_scopes_from_scope_string_and_scopes_list() -> None:
    assert parse_scopes({"scope": "a:read  b:write"}) == {"a:read", "b:write"}
    assert parse_scopes({"scopes": ["a:read"]}) == {"a:read"}
    assert parse_scopes({"scope": "a:read", "scopes": ["b:read"]}) == {"a:read", "b:read"}
    assert parse_scopes({}) == frozenset()


@pytest.mark.parametrize("claims", [{"scope": ["a:read"]}, {"scopes": "a:read"}, {"scopes": [1]}, {"scopes": ['a"b']}])
def test_malformed_scope_claims_are_invalid_tokens(claims: dict[str, object]) -> None:
    with pytest.raises(Problem) as caught:
        parse_scopes(claims)
    assert caught.value.status == 401


async def test_team_and_roles_claims_reach_the_principal() -> None:
    token = mint_token(SECRET, "rep-a", ["sales:read"], 60, team="north", roles=["sales_team_lead"])
    principal = await JWT.authenticate(bearer(token))
    assert principal == Principal("rep-a", "user", frozenset({"sales:read"}), "north", frozenset({"sales_team_lead"}))
    assert parse_team_and_roles({"roles": "a b"}) == (None, frozenset({"a", "b"}))
    assert parse_team_and_roles({}) == (None, frozenset())


@pytest.mark.parametrize(
    "claims", [{"team": 7}, {"team": "two words"}, {"roles": 3}, {"roles": [1]}, {"roles": ['a"b']}]
)
def test_malformed_team_or_roles_are_invalid_tokens(claims: dict[str, object]) -> None:
    with pytest.raises(Problem) as caught:
        parse_team_and_roles(claims)
    assert caught.value.status == 401


async def test_authenticators_are_tried_in_order() -> None:
    class PartnerKeys:
        challenge = 'ApiKey realm="relacja"'

        async def authenticate(self, headers: Headers) -> Principal | None:
            key = headers.get("x-api-key")
            return Principal("partner-1", "partner", frozenset({"sharing:read"})) if key == "k" else None

    chain: list[Authenticator] = [JWT, PartnerKeys()]
    partner = await authenticate(Headers({"x-api-key": "k"}), chain)
    assert partner is not None and partner.kind == "partner"
    user = await authenticate(bearer(encode(scope="a:read")), chain)
    assert user is not None and user.kind == "user"
    assert await authenticate(Headers({}), chain) is None
    with pytest.raises(Problem) as caught:
        authorize("a:read", None, chain)
    assert caught.value.headers["WWW-Authenticate"] == 'Bearer realm="relacja", ApiKey realm="relacja"'


# -- the verified-token cache -------------------------------------------------------------


class WallClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def counting(authenticator: JwtBearerAuthenticator) -> list[str]:
    """Record every full signature check the authenticator makes."""
    checked: list[str] = []
    verify = authenticator.verify

    def recording(token: str) -> dict[str, object]:
        checked.append(token)
        return verify(token)

    authenticator.verify = recording  # type: ignore[method-assign]  # a spy on the instance, on purpose
    return checked


async def test_a_verified_token_is_not_checked_again_within_the_cache_lifetime() -> None:
    clock = WallClock()
    authenticator = JwtBearerAuthenticator(SECRET, ["HS256"], leeway_seconds=0, cache_seconds=60, wall_clock=clock)
    checked = counting(authenticator)
    token = encode(scope="customers:read")
    first = await authenticator.authenticate(bearer(token))
    second = await authenticator.authenticate(bearer(token))
    assert first == second and len(checked) == 1
    clock.now += 61
    await authenticator.authenticate(bearer(token))
    assert len(checked) == 2


async def test_a_cached_token_still_expires_at_its_exp() -> None:
    clock = WallClock()
    authenticator = JwtBearerAuthenticator(SECRET, ["HS256"], leeway_seconds=0, cache_seconds=600, wall_clock=clock)
    checked = counting(authenticator)
    token = encode(exp=int(clock.now) + 5)
    await authenticator.authenticate(bearer(token))
    await authenticator.authenticate(bearer(token))
    assert len(checked) == 1
    clock.now += 6
    await authenticator.authenticate(bearer(token))  # past exp: checked in full again
    assert len(checked) == 2


async def test_a_forged_token_never_hits_the_cache() -> None:
    authenticator = JwtBearerAuthenticator(SECRET, ["HS256"], leeway_seconds=0)
    token = encode(scope="customers:read")
    await authenticator.authenticate(bearer(token))
    head, payload, _ = token.split(".")
    assert (await rejected(authenticator, bearer(f"{head}.{payload}.c2lnbmF0dXJl"))).status == 401


async def test_the_cache_is_bounded_and_can_be_turned_off() -> None:
    bounded = JwtBearerAuthenticator(SECRET, ["HS256"], leeway_seconds=0, cache_size=2)
    tokens = [encode(jti=str(n)) for n in range(3)]
    for token in tokens:
        await bounded.authenticate(bearer(token))
    assert bounded._cache.get(tokens[0]) is None and bounded._cache.get(tokens[2]) is not None
    off = JwtBearerAuthenticator(SECRET, ["HS256"], leeway_seconds=0, cache_seconds=0)
    checked = counting(off)
    for _ in range(2):
        await off.authenticate(bearer(tokens[0]))
    assert len(checked) == 2
