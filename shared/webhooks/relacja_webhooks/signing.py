"""Standard Webhooks signing: secrets, the three headers, rotation side by side.

    new_secret()                  ``whsec_`` + base64 of 32 random bytes (the standard asks ≥ 24)
    check_secret(secret)          the same rule for a secret someone hands us
    signing_secrets(...)          the secrets a message is signed with now: the current one and,
                                  during a rotation's overlap, the previous one
    sign_headers(...)             ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``

Signatures come from the ``standardwebhooks`` library, never from hand-written HMAC code:
https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
A rotation signs with both secrets — ``webhook-signature: v1,<new> v1,<old>`` (space
separated, as the spec allows) — so a receiver that still has only the old secret verifies
until it switches, for the overlap (24 h by default).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime

from standardwebhooks.webhooks import Webhook

__all__ = [
    "SECRET_PREFIX",
    "MIN_SECRET_BYTES",
    "InvalidSecretError",
    "new_secret",
    "check_secret",
    "signing_secrets",
    "sign_headers",
]

SECRET_PREFIX = "whsec_"
#: The Standard Webhooks spec: "secrets should be between 24 bytes and 64 bytes".
MIN_SECRET_BYTES = 24
_NEW_SECRET_BYTES = 32


class InvalidSecretError(ValueError):
    """A secret that is not ``whsec_`` + base64 of at least 24 bytes."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_NEW_SECRET_BYTES)).decode("ascii")


def check_secret(secret: str) -> str:
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidSecretError(f"a webhook secret starts with {SECRET_PREFIX!r}")
    try:
        raw = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as err:
        raise InvalidSecretError("a webhook secret is base64 after its prefix") from err
    if len(raw) < MIN_SECRET_BYTES:
        raise InvalidSecretError(f"a webhook secret holds at least {MIN_SECRET_BYTES} bytes")
    return secret


def signing_secrets(
    current: str, previous: str | None, previous_expires_at: datetime | None, now: datetime
) -> list[str]:
    """The current secret first, then the previous one while its overlap lasts."""
    if previous is not None and previous_expires_at is not None and now < previous_expires_at:
        return [current, previous]
    return [current]


def sign_headers(message_id: str, timestamp: datetime, body: bytes, secrets_: Sequence[str]) -> Mapping[str, str]:
    """The Standard Webhooks headers for one attempt; ``timestamp`` is the attempt's time."""
    if not secrets_:
        raise InvalidSecretError("a message is signed with at least one secret")
    signatures = " ".join(Webhook(secret).sign(message_id, timestamp, body) for secret in secrets_)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
    }
