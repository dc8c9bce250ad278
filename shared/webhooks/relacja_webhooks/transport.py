"""Sending one signed request: the connection-time SSRF check and the bounded response.

    GuardedBackend   an httpcore network backend that resolves the host itself, checks every
                     address with the guard and connects to a checked address; TLS still runs
                     against the hostname (httpcore passes it for SNI and certificate checks),
                     so a rebinding DNS answer cannot steer a connection to a refused address
    AttemptResult    status code, latency, response excerpt, Retry-After, error
    WebhookSender    POST one body with its headers: 15 s for the whole attempt, no redirects
                     (httpcore never follows them; a 3xx is a failure), no proxies from the
                     environment, at most ``excerpt_bytes`` of the response kept

httpcore is used directly rather than through httpx because only httpcore takes a network
backend as a public argument (``AsyncConnectionPool(network_backend=...)``).
"""

from __future__ import annotations

import asyncio
import ssl
import time
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import httpcore

from .guard import UnsafeUrlError, UrlPolicy, check_url_syntax, checked_addresses

__all__ = ["GuardedBackend", "AttemptResult", "WebhookSender", "USER_AGENT"]

USER_AGENT = "Relacja-Webhooks/1.0"
_MAX_READ_BYTES = 65_536  # read this much of a response at most; keep excerpt_bytes of it


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, policy: UrlPolicy, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._policy = policy
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await checked_addresses(host, port, self._policy)
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as err:
                last = err
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise UnsafeUrlError("unix_socket_not_allowed", "webhooks are never sent over a unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    latency_ms: int
    response_excerpt: str | None
    retry_after: str | None
    error: str | None


class WebhookSender:
    """One connection pool for every endpoint; ``send`` never raises for the receiver's faults."""

    def __init__(
        self,
        policy: UrlPolicy,
        *,
        timeout: float = 15.0,
        excerpt_bytes: int = 1024,
        max_connections: int = 200,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._policy = policy
        self._timeout = timeout
        self._excerpt_bytes = excerpt_bytes
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or ssl.create_default_context(),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=30.0,
            network_backend=GuardedBackend(policy),
        )

    async def aclose(self) -> None:
        await self._pool.aclose()

    async def send(self, url: str, headers: Mapping[str, str], body: bytes) -> AttemptResult:
        started = time.perf_counter()
        try:
            target = check_url_syntax(url, self._policy)
            async with asyncio.timeout(self._timeout):
                return await self._post(target.url, headers, body, started)
        except UnsafeUrlError as err:
            return self._failure(started, f"refused: {err.rule}: {err.detail}")
        except TimeoutError:
            return self._failure(started, f"timeout: no complete response within {self._timeout:g} s")
        except httpcore.TimeoutException as err:
            return self._failure(started, f"timeout: {type(err).__name__}")
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol, ssl.SSLError) as err:
            return self._failure(started, f"{type(err).__name__}: {err}"[:500])
        except OSError as err:
            return self._failure(started, f"{type(err).__name__}: {err}"[:500])

    async def _post(self, url: str, headers: Mapping[str, str], body: bytes, started: float) -> AttemptResult:
        request_headers = [
            ("content-type", "application/json"),
            ("user-agent", USER_AGENT),
            *headers.items(),
        ]
        limits = {"connect": self._timeout, "read": self._timeout, "write": self._timeout, "pool": self._timeout}
        async with self._pool.stream(
            "POST", url, headers=request_headers, content=body, extensions={"timeout": limits}
        ) as response:
            kept = bytearray()
            async for chunk in typing.cast(typing.AsyncIterable[bytes], response.stream):
                kept += chunk
                if len(kept) >= _MAX_READ_BYTES:
                    break
            retry_after = next(
                (value.decode("latin-1") for name, value in response.headers if name.lower() == b"retry-after"), None
            )
            excerpt = bytes(kept[: self._excerpt_bytes]).decode("utf-8", "replace") if kept else None
            return AttemptResult(
                status_code=response.status,
                latency_ms=_elapsed_ms(started),
                response_excerpt=excerpt,
                retry_after=retry_after,
                error=None,
            )

    @staticmethod
    def _failure(started: float, error: str) -> AttemptResult:
        return AttemptResult(
            status_code=None, latency_ms=_elapsed_ms(started), response_excerpt=None, retry_after=None, error=error
        )


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
