"""The fault proxy against a real echo server on loopback: it forwards, delays, blackholes
and resets — one link, leaving the others alone; and its Kafka answer rewriting."""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time
from collections.abc import AsyncIterator

import pytest

from relacja_devstack.faultproxy import FaultProxy, KafkaPortRewriter


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


@contextlib.asynccontextmanager
async def proxied(count: int = 1) -> AsyncIterator[list[FaultProxy]]:
    """An echo server behind ``count`` proxies (one per "service")."""
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    proxies = [FaultProxy(f"echo{n}", "127.0.0.1", server.sockets[0].getsockname()[1]) for n in range(count)]
    for proxy in proxies:
        await proxy.start()
    try:
        yield proxies
    finally:
        for proxy in proxies:
            await proxy.stop()
        server.close()
        await server.wait_closed()


async def roundtrip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes) -> float:
    started = time.perf_counter()
    writer.write(data)
    await writer.drain()
    assert await asyncio.wait_for(reader.readexactly(len(data)), 10) == data
    return time.perf_counter() - started


async def test_forwards_bytes_unchanged_both_ways() -> None:
    async with proxied() as [proxy]:
        reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
        payload = bytes(range(256)) * 4096  # 1 MiB: many chunks
        await roundtrip(reader, writer, payload)
        assert proxy.accepted == 1 and proxy.connections == 1
        writer.close()


async def test_latency_hits_only_its_link() -> None:
    async with proxied(2) as [slow_link, fast_link]:
        slow = await asyncio.open_connection(slow_link.host, slow_link.port)
        fast = await asyncio.open_connection(fast_link.host, fast_link.port)
        await roundtrip(*slow, b"warm")
        await roundtrip(*fast, b"warm")
        slow_link.latency(0.2)
        assert await roundtrip(*slow, b"x") >= 0.4  # 0.2 s each way
        assert await roundtrip(*fast, b"x") < 0.2
        slow_link.clear()
        assert await roundtrip(*slow, b"x") < 0.2


async def test_a_blackhole_holds_the_bytes_until_healed() -> None:
    async with proxied() as [proxy]:
        reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
        await roundtrip(reader, writer, b"before")
        proxy.blackhole()
        writer.write(b"during")
        await writer.drain()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.readexactly(6), 0.5)
        proxy.heal()
        assert await asyncio.wait_for(reader.readexactly(6), 5) == b"during"


async def test_a_new_connection_hangs_in_a_blackhole() -> None:
    async with proxied() as [proxy]:
        proxy.blackhole()
        reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
        writer.write(b"hello")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.readexactly(5), 0.5)
        proxy.heal()
        assert await asyncio.wait_for(reader.readexactly(5), 5) == b"hello"


async def test_reset_cuts_the_links_connections_with_an_rst() -> None:
    async with proxied(2) as [victim_link, other_link]:
        victim = await asyncio.open_connection(victim_link.host, victim_link.port)
        bystander = await asyncio.open_connection(other_link.host, other_link.port)
        await roundtrip(*victim, b"a")
        await roundtrip(*bystander, b"a")
        assert victim_link.reset() == 1
        with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
            await roundtrip(*victim, b"b")
        assert await roundtrip(*bystander, b"still here") < 1.0


def _frame(body: bytes) -> bytes:
    return struct.pack(">i", len(body)) + body


def _string(text: str | None) -> bytes:
    return struct.pack(">h", -1) if text is None else struct.pack(">h", len(text)) + text.encode()


def test_kafka_metadata_and_coordinator_answers_name_the_proxy_port() -> None:
    rewriter = KafkaPortRewriter(40001)
    # Requests: Metadata v1 (correlation 7), FindCoordinator v1 (8), Produce v3 (9); header v1.
    requests = b"".join(
        _frame(struct.pack(">hhi", key, version, correlation) + _string("client") + b"rest")
        for key, version, correlation in ((3, 1, 7), (10, 1, 8), (0, 3, 9))
    )
    # Split anywhere: frames are reassembled before they are read.
    assert rewriter.feed(requests[:5], request=True) + rewriter.feed(requests[5:], request=True) == requests
    brokers = struct.pack(">i", 1) + struct.pack(">i", 0) + _string("127.0.0.1") + struct.pack(">i", 19092)
    metadata = _frame(struct.pack(">i", 7) + brokers + _string(None) + b"topics...")
    coordinator = _frame(
        struct.pack(">iih", 8, 0, 0)
        + _string(None)
        + struct.pack(">i", 0)
        + _string("127.0.0.1")
        + struct.pack(">i", 19092)
    )
    produce = _frame(struct.pack(">i", 9) + struct.pack(">i", 19092))
    out = rewriter.feed(metadata + coordinator[:3], request=False) + rewriter.feed(
        coordinator[3:] + produce, request=False
    )
    assert (
        out
        == metadata.replace(struct.pack(">i", 19092), struct.pack(">i", 40001))
        + coordinator.replace(struct.pack(">i", 19092), struct.pack(">i", 40001))
        + produce
    )  # an answer nobody asked addresses with is untouched


async def test_an_unreachable_target_is_a_refused_connection() -> None:
    proxy = FaultProxy("nowhere", "127.0.0.1", 1)
    await proxy.start()
    try:
        reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
        with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
            writer.write(b"x")
            await writer.drain()
            await asyncio.wait_for(reader.readexactly(1), 5)
    finally:
        await proxy.stop()
