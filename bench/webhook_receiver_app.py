"""The webhook benchmark's receiver: a bare ASGI app run by uvicorn in its own process.

POST any path  → 200 "ok"; records (arrival time, "<path>|<the CloudEvent's subject>") — the
                 subject is the message's ordering key in the benchmark
GET  /stats    → {"arrivals": [[time, "<path>|<subject>"], ...]} and forgets them
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["app"]

_arrivals: list[tuple[float, str]] = []


async def app(
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
    if scope["method"] == "GET":
        payload = json.dumps({"arrivals": _arrivals}).encode()
        _arrivals.clear()
    else:
        _arrivals.append((time.time(), f"{scope['path']}|{json.loads(body).get('subject', '')}"))
        payload = b"ok"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": payload})
