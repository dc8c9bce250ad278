"""A TCP proxy that injects network faults, for the fault harness (tests/faults/).

With ``RELACJA_STACK_<PROFILE>_FAULT_PROXIES=1`` (off by default) the stack puts one
:class:`FaultProxy` in front of PostgreSQL and one in front of the broker, and gives every
service the proxies' addresses (the broker advertises its proxy, so a Kafka client's
connections after the bootstrap go through it too). The proxies run in the runner's event
loop.

Each accepted connection is labelled with the service it comes from (``classify`` maps the
peer's address to a name: the stack looks the source port up among its services'
sockets), so a fault can hit one service's link and leave the others alone:

- ``latency(seconds, who)``: every chunk is delivered ``seconds`` later, in both
  directions, at full throughput (a queue per direction, not a sleep per read);
- ``blackhole(who)`` / ``heal(who)``: no byte moves and new connections hang, as when the
  network drops every packet; TCP's own buffers hold the data, so a short blackhole heals
  without the peers noticing anything but the pause — a long one makes them time out;
- ``reset(who)``: every open connection is closed with a TCP RST (SO_LINGER 0).

``who=None`` means every connection. Faults are cleared with :meth:`FaultProxy.clear`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

__all__ = ["FaultProxy", "Faults"]

log = logging.getLogger("relacja_devstack.faultproxy")

CHUNK = 64 * 1024
ANY = "*"

Classifier = Callable[[tuple[str, int]], Awaitable[str]]


@dataclass
class Faults:
    """The faults in force for one label (or for every connection, under ``*``)."""

    latency: float = 0.0
    blackholed: bool = False


@dataclass(eq=False)
class _Connection:
    label: str
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class FaultProxy:
    """Forwards ``host:<port>`` to ``target_host:target_port`` with the faults set on it."""

    def __init__(
        self,
        name: str,
        target_host: str,
        target_port: int,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        classify: Classifier | None = None,
    ) -> None:
        self.name = name
        self.target = (target_host, target_port)
        self.host = host
        self._port = port
        self._classify = classify
        self._server: asyncio.Server | None = None
        self._faults: dict[str, Faults] = {}
        self._connections: set[_Connection] = set()
        self.accepted: dict[str, int] = {}  # label -> connections accepted so far

    @property
    def port(self) -> int:
        if self._server is None:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    async def start(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._handle, self.host, self._port)
            self._port = self.port  # the same port again after a stop/start

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for connection in list(self._connections):
                self._abort(connection, rst=False)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None

    # -- faults ---------------------------------------------------------------------------

    def latency(self, seconds: float, who: str | None = None) -> None:
        self._faults.setdefault(who or ANY, Faults()).latency = seconds

    def blackhole(self, who: str | None = None) -> None:
        self._faults.setdefault(who or ANY, Faults()).blackholed = True

    def heal(self, who: str | None = None) -> None:
        faults = self._faults.get(who or ANY)
        if faults is not None:
            faults.blackholed = False

    def clear(self) -> None:
        self._faults.clear()

    def reset(self, who: str | None = None) -> int:
        """Close the open connections of ``who`` (all when None) with an RST; how many."""
        hit = [c for c in self._connections if who is None or c.label == who]
        for connection in hit:
            self._abort(connection, rst=True)
        return len(hit)

    def connections(self, who: str | None = None) -> int:
        return sum(1 for c in self._connections if who is None or c.label == who)

    def _latency(self, label: str) -> float:
        return max((f.latency for key, f in self._faults.items() if key in (label, ANY)), default=0.0)

    def _blackholed(self, label: str) -> bool:
        return any(f.blackholed for key, f in self._faults.items() if key in (label, ANY))

    async def _wait_open(self, label: str) -> None:
        while self._blackholed(label):
            await asyncio.sleep(0.01)

    # -- forwarding -----------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        label = "other"
        if self._classify is not None and peer:
            with contextlib.suppress(Exception):
                label = await self._classify((peer[0], peer[1]))
        self.accepted[label] = self.accepted.get(label, 0) + 1
        connection = _Connection(label, writer)
        self._connections.add(connection)
        try:
            await self._wait_open(label)  # a blackholed link: the SYN is "lost", the connect hangs
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.target)
            except OSError:
                self._abort(connection, rst=True)  # as the real server's refusal would look
                return
            connection.upstream = up_writer
            connection.tasks = [
                asyncio.ensure_future(self._pump(label, reader, up_writer)),
                asyncio.ensure_future(self._pump(label, up_reader, writer)),
            ]
            # When either side ends, the other is closed too.
            await asyncio.wait(connection.tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._abort(connection, rst=False)
            for task in connection.tasks:
                task.cancel()
            self._connections.discard(connection)

    async def _pump(self, label: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy one direction; with latency, through a queue so throughput is unchanged."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await self._wait_open(label)
                if not chunk:
                    with contextlib.suppress(OSError):
                        writer.write_eof()
                    return
                writer.write(chunk)
                await writer.drain()

        delivering = asyncio.ensure_future(deliver())
        try:
            while True:
                await self._wait_open(label)
                reading = asyncio.ensure_future(reader.read(CHUNK))
                done, _ = await asyncio.wait({reading, delivering}, return_when=asyncio.FIRST_COMPLETED)
                if delivering in done:  # the writer failed: stop
                    reading.cancel()
                    delivering.result()
                    return
                chunk = reading.result()
                queue.put_nowait((time.monotonic() + self._latency(label), chunk))
                if not chunk:
                    await delivering
                    return
        except (ConnectionError, OSError):
            return
        finally:
            delivering.cancel()

    def _abort(self, connection: _Connection, *, rst: bool) -> None:
        for writer in (connection.client, connection.upstream):
            if writer is None:
                continue
            if rst:
                sock = writer.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
            else:
                writer.close()
