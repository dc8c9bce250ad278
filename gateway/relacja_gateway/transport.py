"""``AiohttpTransport``: the gateway's shared httpx client, carried over aiohttp's connector.

Why. Measured with ``make bench-gateway``: the default httpx transport (httpcore's
connection pool) reached 305 req/s where wrk reached 479 against the same service — the
pool's locking under concurrency (encode/httpx#3215) was the gateway's bottleneck.
aiohttp's ``TCPConnector`` pools connections without that contention. The gateway keeps
httpx's *interface* — requests, responses, timeouts, exception classes — so the proxy,
the retries, the circuit breaker and every test double are unchanged; only the bytes on
the wire move through aiohttp.

What the adapter keeps true:

- **Bytes as they are.** No automatic headers (User-Agent, Accept, Content-Type), no
  cookie jar, no decompression (``auto_decompress=False``): the proxy streams the raw
  body, and its Content-Encoding and Content-Length stay true. The URL is sent as
  encoded by the client (``yarl.URL(..., encoded=True)``).
- **Streaming both ways.** A request body that is an async stream goes out chunked as it
  arrives; the response body is read chunk by chunk as the client consumes it.
- **httpx's timeouts.** The request's ``timeout`` extension becomes aiohttp's:
  ``pool + connect`` to get a connection (aiohttp counts the wait for a free one in
  it), ``connect`` for the TCP connect, ``read`` between received bytes.
- **httpx's exceptions**, so callers classify failures one way (see ``_map_errors``):
  refused or unresolvable → ``ConnectError``; no connection in time → ``ConnectTimeout``;
  no bytes in time → ``ReadTimeout``; a broken exchange → ``RemoteProtocolError``.
- **The connection is released** when the response is closed: back to the pool if its
  body was read to the end, closed otherwise.
- **An idle connection is given up before the service gives it up.** uvicorn closes a
  keep-alive connection after 5 s idle (``--timeout-keep-alive``); a pool keeping it longer
  sometimes sends a request on a connection the service is closing at that very moment,
  and the exchange breaks (a 502 for a POST, which must not be repeated). So the pool
  keeps idle connections ``keepalive_seconds`` = 4 s. (An idempotent request that still
  meets a closed connection is sent again once by aiohttp itself, on a new one.)
- **An early answer is passed through.** A service may answer before it has read a
  streamed body (a refusal that needs none: 401, 404, 412, 428…); the answer is returned
  and the rest of the body dropped with the connection (tests/unit/gateway, under uvicorn).
- **A body that fails on the client's side is the client's failure.** When reading the
  client's body raises an HTTP error — the gateway's own body limit (413), counted as the
  body streams — that error is the answer, not a 502 for the broken upstream exchange.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import httpx
from starlette.exceptions import HTTPException
from yarl import URL

__all__ = ["AiohttpTransport"]

# Headers aiohttp would add on its own; the request already carries what it needs.
_NO_AUTO_HEADERS = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")


@contextlib.contextmanager
def _map_errors(request: httpx.Request) -> Iterator[None]:
    """aiohttp's exceptions as the httpx ones they correspond to. Order matters: the
    connect errors are subclasses of ``ClientOSError`` and the timeouts of
    ``asyncio.TimeoutError``."""
    try:
        yield
    except aiohttp.ConnectionTimeoutError as exc:
        raise httpx.ConnectTimeout(str(exc) or "timed out getting a connection", request=request) from exc
    except aiohttp.ServerTimeoutError as exc:
        raise httpx.ReadTimeout(str(exc) or "timed out reading the response", request=request) from exc
    except aiohttp.ClientConnectorError as exc:
        raise httpx.ConnectError(str(exc), request=request) from exc
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientResponseError) as exc:
        raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__, request=request) from exc
    except aiohttp.ClientOSError as exc:
        raise httpx.ReadError(str(exc), request=request) from exc
    except aiohttp.ClientError as exc:
        raise httpx.TransportError(str(exc) or type(exc).__name__, request=request) from exc


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _map_errors(self._request):
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        # release(): back to the pool when the body was read to the end, closed otherwise.
        self._response.release()


def _timeout(request: httpx.Request) -> aiohttp.ClientTimeout:
    limits: dict[str, float | None] = request.extensions.get("timeout", {})
    pool, connect, read = limits.get("pool"), limits.get("connect"), limits.get("read")
    acquire = None if pool is None or connect is None else pool + connect
    return aiohttp.ClientTimeout(total=None, connect=acquire, sock_connect=connect, sock_read=read)


def _has_body(request: httpx.Request) -> bool:
    return (
        "content-length" in request.headers and request.headers["content-length"] != "0"
    ) or "transfer-encoding" in request.headers


async def _body(request: httpx.Request, refused: list[HTTPException]) -> AsyncIterator[bytes]:
    """The request's streamed body; an HTTP error reading it (the client's side) is kept in ``refused``."""
    try:
        async for chunk in request.stream:  # type: ignore[union-attr]  # the proxy builds every upstream request from an async stream
            yield chunk
    except HTTPException as exc:
        refused.append(exc)
        raise


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport over one ``aiohttp.ClientSession`` with a bounded connection pool.

    The session is created on the first request, inside the running event loop (aiohttp
    binds it to the loop), and closed by ``aclose`` — which ``httpx.AsyncClient`` calls
    when the client closes."""

    def __init__(self, *, max_connections: int = 100, keepalive_seconds: float = 4.0) -> None:
        self._max_connections = max_connections
        self._keepalive_seconds = keepalive_seconds
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections,
                limit_per_host=0,
                keepalive_timeout=self._keepalive_seconds,
                ttl_dns_cache=10,  # services move (k8s); a short cache still saves a lookup per call
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=_NO_AUTO_HEADERS,
                trust_env=False,
                timeout=aiohttp.ClientTimeout(total=None),
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._get_session()
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw]
        data: Any = None
        refused: list[HTTPException] = []
        if _has_body(request):
            if isinstance(request.stream, httpx.ByteStream):
                data = request.content
            else:
                # aiohttp frames a body of unknown length itself and refuses a second
                # Transfer-Encoding: chunked beside its own.
                data = _body(request, refused)
                headers = [(name, value) for name, value in headers if name.lower() != "transfer-encoding"]
        try:
            with _map_errors(request):
                response = await session.request(
                    request.method,
                    URL(str(request.url), encoded=True),
                    headers=headers,
                    data=data,
                    allow_redirects=False,
                    timeout=_timeout(request),
                )
        except httpx.TransportError:
            if refused:
                raise refused[0] from None
            raise
        return httpx.Response(
            status_code=response.status,
            headers=list(response.raw_headers),
            stream=_ResponseStream(response, request),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": (response.reason or "").encode("latin-1")},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
