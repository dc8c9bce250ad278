"""A TCP proxy that injects network faults, for the fault harness (tests/faults/).

With ``RELACJA_STACK_<PROFILE>_FAULT_PROXIES=1`` (off by default) the stack puts two
:class:`FaultProxy` per service in front of PostgreSQL and the broker and gives the
service their addresses instead of the real ones, so a fault hits one service's link and
leaves the others alone (``Stack.proxy(service, "postgres" | "broker")``). The proxies run
in the runner's event loop.

- ``latency(seconds)``: every chunk is delivered ``seconds`` later, in both directions, at
  full throughput (a queue per direction, not a sleep per read);
- ``blackhole()`` / ``heal()``: no byte moves and new connections hang, as when the network
  drops every packet; TCP's own buffers hold the data, so a short blackhole heals without
  the peers noticing anything but the pause — a long one makes them time out;
- ``reset()``: every open connection is closed with a TCP RST (SO_LINGER 0).

A Kafka client connects to the bootstrap address only to ask where the brokers are, then
to the address the broker advertises. With ``kafka=True`` the proxy reads the Kafka
frames going through it and rewrites the broker port in Metadata and FindCoordinator
answers to its own, so the client's every connection stays on its proxy (the host,
127.0.0.1, is the same length on both sides: the frames keep their sizes).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from dataclasses import dataclass, field

__all__ = ["FaultProxy", "KafkaPortRewriter"]

CHUNK = 64 * 1024
METADATA, FIND_COORDINATOR = 3, 10


@dataclass(eq=False)
class _Connection:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class KafkaPortRewriter:
    """Per connection: remembers which requests asked for broker addresses (by correlation
    id) and patches the port in their answers. Versions with flexible (compact) encodings
    (Metadata ≥ 9, FindCoordinator ≥ 3) are passed unchanged: aiokafka does not send them."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._asked: dict[int, tuple[int, int]] = {}  # correlation id -> (api key, version)
        self._buffers = {True: bytearray(), False: bytearray()}

    def feed(self, data: bytes, *, request: bool) -> bytes:
        """The complete frames of ``data`` (and what was buffered before), rewritten."""
        buf = self._buffers[request]
        buf += data
        end = 0
        while len(buf) - end >= 4:
            (size,) = struct.unpack_from(">i", buf, end)
            if len(buf) - end - 4 < size:
                break
            frame = memoryview(buf)[end + 4 : end + 4 + size]
            if request:
                self._note(frame)
            else:
                self._patch(frame)
            frame.release()
            end += 4 + size
        out = bytes(buf[:end])
        del buf[:end]
        return out

    def _note(self, frame: memoryview) -> None:
        if len(frame) >= 8:
            api_key, version, correlation = struct.unpack_from(">hhi", frame, 0)
            if api_key in (METADATA, FIND_COORDINATOR):
                self._asked[correlation] = (api_key, version)

    def _patch(self, frame: memoryview) -> None:
        if len(frame) < 4:
            return
        (correlation,) = struct.unpack_from(">i", frame, 0)
        asked = self._asked.pop(correlation, None)
        if asked is None:
            return
        api_key, version = asked
        with contextlib.suppress(struct.error, IndexError):
            if api_key == METADATA and version < 9:
                pos = 4 + (4 if version >= 3 else 0)
                (count,) = struct.unpack_from(">i", frame, pos)
                pos += 4
                for _ in range(count):
                    pos = self._patch_address(frame, pos + 4)  # skip node_id
                    if version >= 1:  # rack: nullable string
                        (length,) = struct.unpack_from(">h", frame, pos)
                        pos += 2 + max(length, 0)
            elif api_key == FIND_COORDINATOR and version < 3:
                pos = 4
                if version >= 1:
                    pos += 4 + 2  # throttle_time_ms, error_code
                    (length,) = struct.unpack_from(">h", frame, pos)
                    pos += 2 + max(length, 0)  # error_message
                else:
                    pos += 2  # error_code
                self._patch_address(frame, pos + 4)  # skip node_id

    def _patch_address(self, frame: memoryview, pos: int) -> int:
        """At ``pos``: host (string) and port (int32); the port becomes ours. The next position."""
        (length,) = struct.unpack_from(">h", frame, pos)
        pos += 2 + length
        struct.pack_into(">i", frame, pos, self.port)
        return pos + 4


class FaultProxy:
    """Forwards ``host:<port>`` to ``target_host:target_port`` with the faults set on it."""

    def __init__(
        self, name: str, target_host: str, target_port: int, *, host: str = "127.0.0.1", kafka: bool = False
    ) -> None:
        self.name = name
        self.target = (target_host, target_port)
        self.host = host
        self.kafka = kafka
        self._port = 0
        self._server: asyncio.Server | None = None
        self._latency = 0.0
        self._blackholed = False
        self._connections: set[_Connection] = set()
        self.accepted = 0  # connections accepted so far

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

    def latency(self, seconds: float) -> None:
        self._latency = seconds

    def blackhole(self) -> None:
        self._blackholed = True

    def heal(self) -> None:
        self._blackholed = False

    def clear(self) -> None:
        self._latency, self._blackholed = 0.0, False

    def reset(self) -> int:
        """Close every open connection with an RST; how many there were."""
        hit = list(self._connections)
        for connection in hit:
            self._abort(connection, rst=True)
        return len(hit)

    @property
    def connections(self) -> int:
        return len(self._connections)

    async def _wait_open(self) -> None:
        while self._blackholed:
            await asyncio.sleep(0.01)

    # -- forwarding -----------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        connection = _Connection(writer)
        self._connections.add(connection)
        try:
            await self._wait_open()  # a blackholed link: the SYN is "lost", the connect hangs
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.target)
            except OSError:
                self._abort(connection, rst=True)  # as the real server's refusal would look
                return
            connection.upstream = up_writer
            rewriter = KafkaPortRewriter(self.port) if self.kafka else None
            connection.tasks = [
                asyncio.ensure_future(self._pump(reader, up_writer, rewriter, request=True)),
                asyncio.ensure_future(self._pump(up_reader, writer, rewriter, request=False)),
            ]
            # When either side ends, the other is closed too.
            await asyncio.wait(connection.tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._abort(connection, rst=False)
            for task in connection.tasks:
                task.cancel()
            self._connections.discard(connection)

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        rewriter: KafkaPortRewriter | None,
        *,
        request: bool,
    ) -> None:
        """Copy one direction; with latency, through a queue so throughput is unchanged."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await self._wait_open()
                if not chunk:
                    with contextlib.suppress(OSError):
                        writer.write_eof()
                    return
                writer.write(chunk)
                await writer.drain()

        delivering = asyncio.ensure_future(deliver())
        try:
            while True:
                await self._wait_open()
                reading = asyncio.ensure_future(reader.read(CHUNK))
                done, _ = await asyncio.wait({reading, delivering}, return_when=asyncio.FIRST_COMPLETED)
                if delivering in done:  # the writer failed: stop
                    reading.cancel()
                    delivering.result()
                    return
                chunk = reading.result()
                if not chunk:
                    queue.put_nowait((time.monotonic() + self._latency, b""))
                    await delivering
                    return
                if rewriter is not None:
                    chunk = rewriter.feed(chunk, request=request)
                    if not chunk:
                        continue  # an incomplete frame: wait for the rest
                queue.put_nowait((time.monotonic() + self._latency, chunk))
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
