"""What partners see of a customer, and what a partner API key looks like.

Pseudonyms (the default identifier of an agreement): HMAC-SHA256 (RFC 2104) of the
customer id's canonical text under a random 32-byte key of the partner's own, encoded as
base64url without padding (43 characters). Two partners get unrelated values for one
customer, so they cannot join their data; the same partner always gets the same value,
across its agreements. The key is kept as its two padded forms (``key XOR ipad`` and
``key XOR opad``), so the database computes the same value with ``sha256()`` alone::

    H(opad || H(ipad || message))                       -- RFC 2104 §2, K shorter than B = 64

``PSEUDONYM_SQL`` is that expression; :func:`pseudonym` is the same in Python (a unit
test holds them equal).

API keys: ``rpk_<lookup>_<secret>`` — ``rpk_`` marks a Relacja partner key (so secret
scanners can find leaked ones), ``lookup`` is 16 lower-case hex characters (the row's
public, indexed part), ``secret`` 43 base64url characters (256 random bits). Only the
SHA-256 of the secret is stored: a 256-bit random secret needs no slow hash, and a
look-up by prefix plus a constant-time comparison keeps authentication one indexed read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "IDENTIFIER_KINDS",
    "IdentifierKind",
    "KEY_PREFIX",
    "PSEUDONYM_SQL",
    "ApiKey",
    "HmacPads",
    "hash_secret",
    "new_api_key",
    "new_pads",
    "parse_api_key",
    "pseudonym",
    "secret_matches",
]

IdentifierKind = Literal["pseudonym", "customer_id", "email"]
IDENTIFIER_KINDS: tuple[IdentifierKind, ...] = ("pseudonym", "customer_id", "email")

_BLOCK = 64  # SHA-256's block size in bytes (RFC 2104's B)

#: The pseudonym in SQL: ``:ipad`` / ``:opad`` are bytea columns or parameters, ``:cid`` a uuid.
#: ``encode(..., 'base64')`` wraps lines at 76 characters; 32 bytes encode to 44, so no newline.
PSEUDONYM_SQL = (
    "rtrim(translate(encode(sha256({opad} || sha256({ipad} || convert_to({cid}::text, 'UTF8'))), 'base64'),"
    " '+/', '-_'), '=')"
)


@dataclass(frozen=True)
class HmacPads:
    ipad: bytes
    opad: bytes


def new_pads(key: bytes | None = None) -> HmacPads:
    """The two padded forms of ``key`` (a fresh random 32-byte key when None)."""
    key = secrets.token_bytes(32) if key is None else key
    if len(key) > _BLOCK:
        raise ValueError("the key must not exceed the hash's block size")
    padded = key.ljust(_BLOCK, b"\0")
    return HmacPads(bytes(b ^ 0x36 for b in padded), bytes(b ^ 0x5C for b in padded))


def pseudonym(pads: HmacPads, customer_id: uuid.UUID) -> str:
    inner = hashlib.sha256(pads.ipad + str(customer_id).encode()).digest()
    digest = hashlib.sha256(pads.opad + inner).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


KEY_PREFIX = "rpk"
_KEY = re.compile(r"^rpk_(?P<lookup>[0-9a-f]{16})_(?P<secret>[A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class ApiKey:
    lookup: str
    secret: str

    @property
    def text(self) -> str:
        return f"{KEY_PREFIX}_{self.lookup}_{self.secret}"


def new_api_key() -> ApiKey:
    return ApiKey(lookup=secrets.token_hex(8), secret=secrets.token_urlsafe(32))


def parse_api_key(text: str) -> ApiKey | None:
    """The key's parts, or None when ``text`` is not shaped like a partner key."""
    match = _KEY.match(text)
    return ApiKey(match["lookup"], match["secret"]) if match else None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
