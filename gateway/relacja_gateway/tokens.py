"""Minting bearer tokens the gateway accepts — for local development, tests and scripts.

    python -m relacja_gateway.tokens --scopes admin customers:read --ttl 3600 [--subject x]
    python -m relacja_gateway.tokens --scopes feed --partner-id <uuid>   (a partner's token)

prints only the token, so ``TOKEN=$(python -m relacja_gateway.tokens --scopes admin)``
works. The key, algorithm, issuer and audience come from the same ``RELACJA_GATEWAY_*``
settings the gateway reads (the development secret if none is set), so a token minted
with the gateway's environment verifies against it. Production tokens come from an
identity provider, not from here.
"""

from __future__ import annotations

import argparse
import re
import time
import uuid
from collections.abc import Sequence

import jwt

from .settings import GatewaySettings

__all__ = ["mint_token", "main"]

# https://www.rfc-editor.org/rfc/rfc6749#section-3.3
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")


def mint_token(
    secret: str,
    subject: str,
    scopes: list[str],
    ttl_seconds: int = 3600,
    *,
    algorithm: str = "HS256",
    issuer: str | None = None,
    audience: str | None = None,
    partner_id: uuid.UUID | None = None,
    team: str | None = None,
    roles: Sequence[str] = (),
) -> str:
    """A signed JWT with ``sub``, ``scope`` (space separated, RFC 9068 §2.2.3.1), ``iat``,
    ``exp`` and a unique ``jti``; with ``partner_id``, a partner's client-credentials token
    (accepted on /partner/v1 only); ``team`` and ``roles`` claims when given (record-level
    access in the sales service)."""
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    bad = [scope for scope in scopes if not _SCOPE_TOKEN.match(scope)]
    if bad:
        raise ValueError(f"not OAuth2 scope tokens (RFC 6749 §3.3): {bad}")
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": subject,
        "scope": " ".join(scopes),
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    if team is not None:
        claims["team"] = team
    if roles:
        claims["roles"] = list(roles)
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    if partner_id is not None:
        claims["partner_id"] = str(partner_id)
    return jwt.encode(claims, secret, algorithm=algorithm)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m relacja_gateway.tokens", description="Print a bearer token the gateway accepts."
    )
    parser.add_argument("--scopes", nargs="+", required=True, help="e.g. admin customers:read analytics:read")
    parser.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600)")
    parser.add_argument("--subject", default="local-admin", help="the sub claim (default local-admin)")
    parser.add_argument("--partner-id", type=uuid.UUID, default=None, help="a partner's token for /partner/v1")
    args = parser.parse_args(argv)
    settings = GatewaySettings()
    try:
        token = mint_token(
            settings.jwt_secret,
            args.subject,
            args.scopes,
            args.ttl,
            algorithm=(settings.jwt_algorithms or ["HS256"])[0],
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            partner_id=args.partner_id,
        )
    except ValueError as exc:
        parser.error(str(exc))
    print(token)


if __name__ == "__main__":
    main()
