"""The aiohttp transport under the gateway's httpx client, against a real HTTP server.

The server is an aiohttp.web app on an ephemeral localhost port, in this process: real
sockets and real HTTP/1.1, so what is checked is what goes over the wire.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from aiohttp import web
from gateway_doubles import make_settings
from starlette.exceptions import HTTPException

from relacja_gateway.proxy import new_upstream_client
from relacja_gateway.transport import AiohttpTransport
from tests.e2e.gateway_support import closed_port


class Server:
    """Records what arrived and answers per path."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.base_url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.seen.append(
            {
                "method": request.method,
                "raw_path": request.raw_path,
                "headers": request.headers.copy(),
                "body": body,
                "peer": peer,
            }
        )
        path = request.path
        if path == "/cookies":
            response = web.Response(text="ok")
            response.headers.add("Set-Cookie", "a=1; Path=/")
            response.headers.add("Set-Cookie", "b=2; Path=/")
            return response
        if path == "/gzip":
            return web.Response(
                body=gzip.compress(b"compressed " * 100),
                headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"},
            )
        if path == "/slow":
            await asyncio.sleep(2)
            return web.Response(text="late")
        if path == "/hangup":
            assert request.transport is not None
            request.transport.close()
            return web.Response(text="never sent")
        if path == "/chunks":
            stream = web.StreamResponse(headers={"Content-Type": "text/csv"})
            await stream.prepare(request)
            for row in (b"a,b\n", b"1,2\n", b"3,4\n"):
                await stream.write(row)
            await stream.write_eof()
            return stream
        return web.json_response({"length": len(body)}, status=201 if request.method == "POST" else 200)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", state.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # aiohttp types _server as optional; it is set once start() returned
    state.base_url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with new_upstream_client(make_settings()) as shared:
        yield shared


async def test_a_get_sends_only_the_headers_given(server: Server, client: httpx.AsyncClient) -> None:
    response = await client.get(f"{server.base_url}/x", headers={"X-Request-ID": "r-1"})
    assert response.status_code == 200 and response.json() == {"length": 0}
    seen = server.seen[-1]["headers"]
    assert seen["X-Request-ID"] == "r-1"
    assert "Content-Type" not in seen and "Transfer-Encoding" not in seen
    assert seen.get("User-Agent", "").startswith("python-httpx")  # httpx's, not aiohttp's


async def test_repeated_response_headers_are_kept(server: Server, client: httpx.AsyncClient) -> None:
    response = await client.get(f"{server.base_url}/cookies")
    assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]


async def test_a_compressed_body_arrives_as_sent(server: Server, client: httpx.AsyncClient) -> None:
    async with client.stream("GET", f"{server.base_url}/gzip") as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) == len(raw)
    assert gzip.decompress(raw) == b"compressed " * 100


async def test_a_streamed_response_arrives_whole(server: Server, client: httpx.AsyncClient) -> None:
    async with client.stream("GET", f"{server.base_url}/chunks") as response:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
    assert body == b"a,b\n1,2\n3,4\n"


async def test_a_streamed_request_body_goes_out_chunked(server: Server, client: httpx.AsyncClient) -> None:
    async def upload() -> AsyncIterator[bytes]:
        for part in (b"first,", b"second,", b"third"):
            yield part

    response = await client.post(f"{server.base_url}/upload", content=upload())
    assert response.status_code == 201 and response.json() == {"length": len(b"first,second,third")}
    assert server.seen[-1]["body"] == b"first,second,third"
    assert server.seen[-1]["headers"]["Transfer-Encoding"] == "chunked"


async def test_a_bytes_body_goes_out_with_its_length(server: Server, client: httpx.AsyncClient) -> None:
    response = await client.put(
        f"{server.base_url}/item", content=b'{"a": 1}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
    seen = server.seen[-1]
    assert seen["body"] == b'{"a": 1}' and seen["headers"]["Content-Length"] == "8"
    assert seen["headers"]["Content-Type"] == "application/json"


async def test_the_path_keeps_its_percent_encoding(server: Server, client: httpx.AsyncClient) -> None:
    await client.get(f"{server.base_url}/api/v1/customers/a%2Fb?q=x%20y")
    assert server.seen[-1]["raw_path"] == "/api/v1/customers/a%2Fb?q=x%20y"


async def test_connections_are_reused(server: Server, client: httpx.AsyncClient) -> None:
    for _ in range(3):
        (await client.get(f"{server.base_url}/x")).raise_for_status()
    assert len({seen["peer"] for seen in server.seen}) == 1


async def test_failures_are_the_httpx_exceptions(server: Server, client: httpx.AsyncClient) -> None:
    with pytest.raises(httpx.ConnectError):
        await client.get(f"http://127.0.0.1:{closed_port()}/x")
    with pytest.raises(httpx.ReadTimeout):
        await client.get(f"{server.base_url}/slow", timeout=0.2)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        await client.get(f"{server.base_url}/hangup")
    # and the client still works afterwards
    assert (await client.get(f"{server.base_url}/x")).status_code == 200


async def test_a_streamed_request_body_of_known_length_keeps_its_length(
    server: Server, client: httpx.AsyncClient
) -> None:
    # What the proxy sends for a POST: the client's body as a stream, its Content-Length kept.
    async def upload() -> AsyncIterator[bytes]:
        yield b'{"kind": '
        yield b'"person"}'

    response = await client.post(f"{server.base_url}/customers", content=upload(), headers={"Content-Length": "18"})
    assert response.status_code == 201
    seen = server.seen[-1]
    assert seen["body"] == b'{"kind": "person"}' and seen["headers"]["Content-Length"] == "18"
    assert "Transfer-Encoding" not in seen["headers"]


# -- early answers, the client's own body errors, idle connections ------------------------------


async def test_an_http_error_reading_the_clients_body_is_raised_as_it_is(
    server: Server, client: httpx.AsyncClient
) -> None:
    """The gateway's body limit fires while the body streams: that 413 is the answer, not a 502."""

    async def upload() -> AsyncIterator[bytes]:
        yield b"x" * 65536
        raise HTTPException(413, "The request body exceeds 1048576 bytes.")

    with pytest.raises(HTTPException) as refused:
        await client.post(f"{server.base_url}/upload", content=upload())
    assert refused.value.status_code == 413
    assert (await client.get(f"{server.base_url}/x")).status_code == 200


@pytest.fixture
async def uvicorn_upstream() -> AsyncIterator[str]:
    """A raw ASGI app under uvicorn, as the services run: ``/early`` answers 428 without
    reading the body (a refusal that needs none); every other path reads it and answers its length."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        if scope["path"] == "/early":
            body = b'{"status": 428}'
            await send({"type": "http.response.start", "status": 428, "headers": [(b"content-length", b"15")]})
            await send({"type": "http.response.body", "body": body})
            return
        length, more = 0, True
        while more:
            message = await receive()
            length += len(message.get("body", b""))
            more = message.get("more_body", False)
        body = str(length).encode()
        await send({"type": "http.response.start", "status": 201, "headers": [(b"content-length", b"%d" % len(body))]})
        await send({"type": "http.response.body", "body": body})

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def test_an_early_answer_to_a_streamed_body_is_passed_through(
    uvicorn_upstream: str, client: httpx.AsyncClient
) -> None:
    """The service answers 428 while the 2 MiB body is still being sent: the client gets the 428."""

    async def upload() -> AsyncIterator[bytes]:
        for _ in range(32):
            yield b"x" * 65536
            await asyncio.sleep(0)

    statuses: list[int | str] = []
    for _ in range(10):
        try:
            statuses.append((await client.post(f"{uvicorn_upstream}/early", content=upload())).status_code)
        except httpx.TransportError as exc:
            statuses.append(type(exc).__name__)
    assert statuses == [428] * 10
    # and the connection pool still works: a body the service reads goes out whole.
    response = await client.post(f"{uvicorn_upstream}/upload", content=upload())
    assert response.status_code == 201 and response.text == str(32 * 65536)


def test_idle_connections_are_given_up_before_the_service_closes_them() -> None:
    """uvicorn closes a keep-alive connection idle for ``timeout_keep_alive`` seconds (5); a pool
    that keeps it longer may send a request just as the service closes it (a 502)."""
    services_keep_alive = uvicorn.Config(app=None).timeout_keep_alive  # type: ignore[arg-type]
    assert AiohttpTransport()._keepalive_seconds < services_keep_alive
