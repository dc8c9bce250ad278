"""Public keys of an identity provider, from its JSON Web Key Set (RFC 7517 §5).

    JwksKeySource.key(kid)
      cached and younger than refresh_seconds  → the key
      unknown kid (the provider rotated keys)  → fetch again, at most once per
                                                 min_refresh_seconds, then look again
      cache older than refresh_seconds         → fetch again; on failure keep the old keys

The set is fetched with the gateway's shared httpx client. Concurrent callers share one
fetch (a lock), so a burst of tokens with a new ``kid`` costs one request to the provider,
and a flood of tokens with made-up ``kid`` values cannot make the gateway hammer it.
Keys that are not for signatures (``use`` other than ``sig``) or of an unsupported type
are skipped, as RFC 7517 §4.2 allows.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
from jwt import PyJWK
from jwt.exceptions import PyJWKError

__all__ = ["JwksKeySource", "JwksUnavailable"]

log = logging.getLogger(__name__)


class JwksUnavailable(Exception):
    """The key set could not be fetched and no earlier copy is cached."""


class JwksKeySource:
    def __init__(
        self,
        url: str,
        client: Callable[[], httpx.AsyncClient],
        *,
        refresh_seconds: float = 300.0,
        min_refresh_seconds: float = 10.0,
        timeout_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._client = client  # a callable: the shared client exists only once the app started
        self._refresh_seconds = refresh_seconds
        self._min_refresh_seconds = min_refresh_seconds
        self._timeout = timeout_seconds
        self._clock = clock
        self._keys: dict[str | None, PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()

    async def key(self, kid: str | None) -> PyJWK | None:
        """The key with this ``kid`` (None: the set's only key), or None if there is none."""
        if self._fetched_at is None or self._clock() - self._fetched_at >= self._refresh_seconds:
            await self._refresh()
        found = self._lookup(kid)
        if found is None:
            await self._refresh()
            found = self._lookup(kid)
        return found

    def _lookup(self, kid: str | None) -> PyJWK | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        async with self._lock:
            now = self._clock()
            if self._attempted_at is not None and now - self._attempted_at < self._min_refresh_seconds:
                # asked moments ago, maybe by a concurrent caller: use what that gave
                if self._fetched_at is None:
                    raise JwksUnavailable("the last fetch failed")
                return
            self._attempted_at = now
            try:
                response = await self._client().get(self.url, timeout=self._timeout)
                response.raise_for_status()
                self._keys = self._parse(response.content)
                self._fetched_at = self._clock()
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("JWKS fetch failed: %s", type(exc).__name__)
                if self._fetched_at is None:
                    raise JwksUnavailable(str(type(exc).__name__)) from None

    @staticmethod
    def _parse(content: bytes) -> dict[str | None, PyJWK]:
        document: Any = json.loads(content)
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError("not a JSON Web Key Set")
        keys: dict[str | None, PyJWK] = {}
        for entry in document["keys"]:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            try:
                keys[entry.get("kid")] = PyJWK(entry)
            except PyJWKError:
                continue
        return keys
