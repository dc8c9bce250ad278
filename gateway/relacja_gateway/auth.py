"""Who is calling (authentication) and whether they may make this call (authorisation).

    Authorization: Bearer rpk_… ──► PartnerApiKeyAuthenticator ──► Principal(partner id, kind="partner")
                                    asks the sharing service (partners.py); first in the list
    Authorization: Bearer <JWT> ──► JwtBearerAuthenticator ──► Principal(sub, kind="user", scopes)
                                    HS256: the shared secret; RS256: a key from the JWKS (jwks.py)
                                    a `partner_id` claim (an OAuth2 client-credentials token
                                    issued to a partner) ──► Principal(partner id, kind="partner")

``authenticate`` asks each ``Authenticator`` in order. An authenticator returns None when
the request carries no credentials of its kind, a ``Principal`` when they are valid, and
raises a 401 ``Problem`` when they are present but invalid — so adding partner API keys is
one more entry in the list, and routes and ``authorize`` stay as they are.

Errors follow RFC 6750 §3 (https://www.rfc-editor.org/rfc/rfc6750#section-3):

    no credentials at all        401  WWW-Authenticate: Bearer realm="relacja"
    malformed/bad/expired token  401  ... error="invalid_token", error_description="..."
    valid token, missing scope   403  ... error="insufficient_scope", scope="customers:write"

RFC 6750 §3.1 says a request without any credentials SHOULD NOT get an error code, so
the first line carries only the realm.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import jwt
from starlette.datastructures import Headers

from relacja_servicekit.problems import Problem

from .jwks import JwksKeySource, JwksUnavailable
from .settings import GatewaySettings

__all__ = [
    "ADMIN_SCOPE",
    "REALM",
    "Authenticator",
    "JwtBearerAuthenticator",
    "Principal",
    "PrincipalKind",
    "admit",
    "authenticate",
    "authorize",
    "invalid_token",
    "parse_scopes",
    "partner_id_of",
    "parse_team_and_roles",
]

REALM = "relacja"
ADMIN_SCOPE = "admin"

PrincipalKind = Literal["user", "partner"]

# https://www.rfc-editor.org/rfc/rfc6749#section-3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")
# The subject travels to services in a header: visible ASCII only, bounded.
_SUBJECT = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, as services will see it in the identity headers."""

    id: str
    kind: PrincipalKind
    scopes: frozenset[str]
    # For services with record-level access (sales: a rep sees their own records, a team
    # lead the team's, a manager all): the token's ``team`` and ``roles`` claims.
    team: str | None = None
    roles: frozenset[str] = frozenset()

    def has_scope(self, scope: str) -> bool:
        return ADMIN_SCOPE in self.scopes or scope in self.scopes


class Authenticator(Protocol):
    """One way to prove identity. ``challenge`` is offered in ``WWW-Authenticate`` when a
    request brings no credentials at all (RFC 9110 §11.6.1 allows several challenges)."""

    challenge: str

    async def authenticate(self, headers: Headers) -> Principal | None: ...


def invalid_token(description: str) -> Problem:
    # error_description must stay within %x20-21 / %x23-5B / %x5D-7E (RFC 6750 §3): the
    # descriptions below are fixed strings, never text taken from the token.
    return Problem(
        401,
        "Invalid access token",
        f"{description}.",
        type_="invalid-token",
        headers={
            "WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token", error_description="{description}"'
        },
    )


_JWT_ERRORS: tuple[tuple[type[jwt.InvalidTokenError], str], ...] = (
    (jwt.ExpiredSignatureError, "The access token expired"),
    (jwt.ImmatureSignatureError, "The access token is not valid yet"),
    (jwt.InvalidSignatureError, "The access token signature does not verify"),
    (jwt.InvalidAudienceError, "The access token is for another audience"),
    (jwt.InvalidIssuerError, "The access token is from another issuer"),
    (jwt.MissingRequiredClaimError, "The access token lacks a required claim"),
    (jwt.InvalidAlgorithmError, "The access token uses an algorithm that is not accepted"),
    (jwt.DecodeError, "The access token is malformed"),
)


def parse_scopes(claims: dict[str, object]) -> frozenset[str]:
    """Scopes from ``scope`` (space separated, RFC 9068 §2.2.3.1 / RFC 8693 §4.2) and/or a
    ``scopes`` list; anything else is an invalid token rather than silently no scopes."""
    scopes: set[str] = set()
    scope = claims.get("scope")
    if scope is not None:
        if not isinstance(scope, str):
            raise invalid_token("The scope claim is not a string")
        scopes.update(scope.split())
    listed = claims.get("scopes")
    if listed is not None:
        if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
            raise invalid_token("The scopes claim is not a list of strings")
        scopes.update(listed)
    if not all(_SCOPE_TOKEN.match(item) for item in scopes):
        raise invalid_token("The access token carries a malformed scope")
    return frozenset(scopes)


def partner_id_of(claims: dict[str, object]) -> uuid.UUID | None:
    """The ``partner_id`` claim of a partner's token (None for a staff token): a UUID in
    its canonical text form, or the token is invalid."""
    value = claims.get("partner_id")
    if value is None:
        return None
    try:
        partner_id = uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        partner_id = None
    if partner_id is None or str(partner_id) != value:
        raise invalid_token("The partner_id claim is not a UUID")
    return partner_id


def parse_team_and_roles(claims: dict[str, object]) -> tuple[str | None, frozenset[str]]:
    """The optional ``team`` claim (a printable ASCII identifier) and ``roles`` claim (a list
    of role names, or one space-separated string, as ``scope``); they travel to services in
    headers, so anything else is an invalid token rather than silently no team or role."""
    team = claims.get("team")
    if team is not None and (not isinstance(team, str) or not _SUBJECT.match(team)):
        raise invalid_token("The team claim is not a printable ASCII identifier")
    raw = claims.get("roles")
    roles: list[object]
    if raw is None:
        roles = []
    elif isinstance(raw, str):
        roles = list(raw.split())
    elif isinstance(raw, list):
        roles = raw
    else:
        raise invalid_token("The roles claim is not a list of strings")
    if not all(isinstance(role, str) and _SCOPE_TOKEN.match(role) for role in roles):
        raise invalid_token("The access token carries a malformed role")
    return team, frozenset(str(role) for role in roles)


class JwtBearerAuthenticator:
    """OAuth2 bearer tokens (RFC 6750 §2.1) that are JWTs: signed with the shared HMAC key
    (HS256 locally), or — when a ``JwksKeySource`` is given — with an identity provider's
    private key whose public half is in its JWKS (RS256 in production).

    The token's ``alg`` header picks the key: an HMAC algorithm the secret, an asymmetric
    one the JWKS key named by ``kid``. Each kind of key is only ever used with algorithms
    of its own kind, so a token cannot pass an RSA public key off as an HMAC secret (the
    algorithm confusion of RFC 8725 §2.1).

    Verified tokens are remembered for ``cache_seconds`` (never past their ``exp``): a
    frontend sends the same token with every call, and checking a signature costs more
    than the rest of the gateway's own work on a request. The key is the whole token,
    signature included, so only a byte-identical token hits. A key removed from the JWKS
    stops tokens it signed within ``cache_seconds``, not at once."""

    def __init__(
        self,
        secret: str,
        algorithms: Sequence[str],
        *,
        jwks: JwksKeySource | None = None,
        jwks_algorithms: Sequence[str] = ("RS256",),
        issuer: str | None = None,
        audience: str | None = None,
        leeway_seconds: int = 30,
        cache_seconds: float = 60.0,
        cache_size: int = 10_000,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._cache = _VerifiedTokens(cache_seconds, cache_size, wall_clock)
        self._secret = secret
        self._algorithms = list(algorithms)
        self._jwks = jwks
        self._jwks_algorithms = list(jwks_algorithms) if jwks is not None else []
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds
        self.challenge = f'Bearer realm="{REALM}"'

    @classmethod
    def from_settings(cls, settings: GatewaySettings, jwks: JwksKeySource | None = None) -> JwtBearerAuthenticator:
        return cls(
            settings.jwt_secret,
            settings.jwt_algorithms,
            jwks=jwks,
            jwks_algorithms=settings.jwks_algorithms,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            leeway_seconds=settings.jwt_leeway_seconds,
            cache_seconds=settings.jwt_cache_seconds,
            cache_size=settings.jwt_cache_size,
        )

    async def authenticate(self, headers: Headers) -> Principal | None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        # The auth-scheme is case-insensitive: https://www.rfc-editor.org/rfc/rfc9110#section-11.1
        if scheme.lower() != "bearer":
            return None
        token = token.strip()
        if not token or " " in token:
            raise invalid_token("The bearer token is malformed")
        principal = self._cache.get(token)
        if principal is not None:
            return principal
        claims = await self.verify_any(token)
        subject = claims["sub"]
        if not isinstance(subject, str) or not _SUBJECT.match(subject):
            raise invalid_token("The sub claim is not a printable ASCII identifier")
        partner_id = partner_id_of(claims)
        if partner_id is not None:
            # A partner is one principal however many clients or keys it uses: the partner
            # id is what the sharing service and the rate limiter know it by.
            principal = Principal(id=str(partner_id), kind="partner", scopes=parse_scopes(claims))
        else:
            team, roles = parse_team_and_roles(claims)
            principal = Principal(id=subject, kind="user", scopes=parse_scopes(claims), team=team, roles=roles)
        self._cache.put(token, principal, claims)
        return principal

    async def verify_any(self, token: str) -> dict[str, object]:
        """The verified claims of an HMAC- or a JWKS-signed token."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise invalid_token("The access token is malformed") from None
        algorithm = header.get("alg")
        if algorithm in self._algorithms:
            return self.verify(token)
        if self._jwks is None or algorithm not in self._jwks_algorithms:
            raise invalid_token("The access token uses an algorithm that is not accepted")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise invalid_token("The access token is malformed")
        try:
            key = await self._jwks.key(kid)
        except JwksUnavailable:
            raise Problem(
                503,
                "Service unavailable",
                "The identity provider's keys cannot be fetched, so the access token cannot be checked; retry later.",
                type_="identity-provider-unavailable",
                headers={"Retry-After": "5"},
            ) from None
        if key is None:
            raise invalid_token("The access token was signed with an unknown key")
        return self._decode(token, key.key, [algorithm])

    def verify(self, token: str) -> dict[str, object]:
        """The verified claims of an HMAC-signed token: signature, ``exp`` (required),
        ``nbf``/``iat`` when present, and ``iss``/``aud`` when configured (a token with an
        ``aud`` the gateway does not expect is refused, RFC 7519 §4.1.3)."""
        return self._decode(token, self._secret, self._algorithms)

    def _decode(self, token: str, key: Any, algorithms: list[str]) -> dict[str, object]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=algorithms,
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": ["exp", "sub"]},
            )
        except jwt.PyJWTError as exc:
            description = next(
                (text for kind, text in _JWT_ERRORS if isinstance(exc, kind)), "The access token is invalid"
            )
            raise invalid_token(description) from None


class _VerifiedTokens:
    """Token → Principal for tokens whose signature and claims were checked, each until the
    earliest of: ``lifetime`` after it was checked, and its ``exp`` (plus the leeway the
    check allowed, which is what a fresh check would accept). Bounded: the oldest entry
    goes first (dicts keep insertion order)."""

    def __init__(self, lifetime: float, size: int, clock: Callable[[], float]) -> None:
        self._lifetime = lifetime
        self._size = size
        self._clock = clock
        self._entries: dict[str, tuple[Principal, float]] = {}

    def get(self, token: str) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        principal, valid_until = entry
        if self._clock() >= valid_until:
            del self._entries[token]
            return None
        return principal

    def put(self, token: str, principal: Principal, claims: dict[str, object]) -> None:
        if self._lifetime <= 0:
            return
        valid_until = self._clock() + self._lifetime
        exp = claims.get("exp")
        if isinstance(exp, (int, float)):
            valid_until = min(valid_until, float(exp))  # never past exp, leeway not included
        nbf = claims.get("nbf")
        if isinstance(nbf, (int, float)) and nbf > self._clock():
            return  # accepted within the leeway only; check again next time
        if len(self._entries) >= self._size:
            del self._entries[next(iter(self._entries))]
        self._entries[token] = (principal, valid_until)


def _challenges(authenticators: Sequence[Authenticator]) -> str:
    # Partner keys and JWTs are both bearer tokens: one challenge each, said once.
    return ", ".join(dict.fromkeys(a.challenge for a in authenticators))


async def authenticate(headers: Headers, authenticators: Sequence[Authenticator]) -> Principal | None:
    for authenticator in authenticators:
        principal = await authenticator.authenticate(headers)
        if principal is not None:
            return principal
    return None


def authorize(required_scope: str | None, principal: Principal | None, authenticators: Sequence[Authenticator]) -> None:
    """Raise 401 or 403 unless ``principal`` may make a call that needs ``required_scope``
    (None: a public route)."""
    if required_scope is None:
        return
    if principal is None:
        raise Problem(
            401,
            "Authentication required",
            "This resource needs an access token: send Authorization: Bearer <token>.",
            type_="authentication-required",
            headers={"WWW-Authenticate": _challenges(authenticators)},
        )
    if not principal.has_scope(required_scope):
        raise Problem(
            403,
            "Insufficient scope",
            f"This call needs the scope {required_scope}.",
            type_="insufficient-scope",
            headers={
                "WWW-Authenticate": (
                    f'Bearer realm="{REALM}", error="insufficient_scope", scope="{required_scope}", '
                    f'error_description="The access token lacks the scope {required_scope}"'
                )
            },
            extra={"required_scope": required_scope},
        )


def admit(audience: PrincipalKind, principal: Principal | None, authenticators: Sequence[Authenticator]) -> None:
    """Raise unless ``principal`` is of the kind the route is for (routes.Audience): a
    partner credential never reaches a staff route (public ones included), and a partner
    route needs a partner credential. Both are 403 for a valid credential of the other
    kind — it is the caller's, just not for this API — and name the one to send."""
    if audience == "partner":
        if principal is None:
            raise Problem(
                401,
                "Authentication required",
                "The partner API needs a partner credential: send Authorization: Bearer <API key> "
                "or a partner's OAuth2 client-credentials token.",
                type_="authentication-required",
                headers={"WWW-Authenticate": _challenges(authenticators)},
            )
        if principal.kind != "partner":
            raise Problem(
                403,
                "Partner credential required",
                "A staff access token is not accepted on the partner API (/partner/v1); "
                "send the partner's API key or client-credentials token.",
                type_="partner-credential-required",
            )
    elif principal is not None and principal.kind == "partner":
        raise Problem(
            403,
            "Staff credential required",
            "A partner credential is not accepted on the staff API (/api/v1); partners use /partner/v1.",
            type_="staff-credential-required",
        )
