"""A real HTTP receiver on loopback for the webhook tests (uvicorn in the test's event loop).

    async with WebhookReceiver() as receiver:
        receiver.script("/gone", [(410, {}, b"")])     # answers in order; then 200 for ever
        receiver.script("/x", [(500, {}, b"")], body_contains=b'"A"')   # only for such bodies
        url = receiver.url("/gone")
        ... receiver.received("/gone")                  # every request: headers and body

It answers what a test scripts per path (status, headers, body), 200 once the script is used up,
and records each request as it came off the wire, so signatures are verified on the exact bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import uvicorn

__all__ = ["Received", "WebhookReceiver"]

Reply = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class WebhookReceiver:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self._scripts: dict[str, list[tuple[bytes, deque[Reply]]]] = defaultdict(list)
        self._received: dict[str, list[Received]] = defaultdict(list)
        self._delay: dict[str, float] = {}
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def script(self, path: str, replies: list[Reply], body_contains: bytes = b"") -> None:
        self._scripts[path].append((body_contains, deque(replies)))

    def _reply(self, path: str, body: bytes) -> Reply:
        for needle, replies in self._scripts[path]:
            if replies and needle in body:
                return replies.popleft()
        return (200, {}, b"ok")

    def delay(self, path: str, seconds: float) -> None:
        self._delay[path] = seconds

    def received(self, path: str) -> list[Received]:
        return list(self._received[path])

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path = scope["path"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        self._received[path].append(Received(path, headers, body, time.monotonic()))
        if path in self._delay:
            await asyncio.sleep(self._delay[path])
        status, reply_headers, reply_body = self._reply(path, body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode(), v.encode()) for k, v in reply_headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": reply_body})

    async def __aenter__(self) -> WebhookReceiver:
        config = uvicorn.Config(self, host=self.host, port=0, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None and self._task is not None
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
