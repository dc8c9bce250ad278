"""The fault proxy against a real echo server on loopback: it forwards, delays, blackholes
and resets — per label, leaving the other labels' connections alone."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from relacja_devstack.faultproxy import FaultProxy


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


@contextlib.asynccontextmanager
async def proxied(labels: list[str]) -> AsyncIterator[FaultProxy]:
    """An echo server behind a proxy that labels its connections in the order given."""
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    pending = list(labels)

    async def classify(peer: tuple[str, int]) -> str:
        return pending.pop(0) if pending else "other"

    proxy = FaultProxy("echo", "127.0.0.1", server.sockets[0].getsockname()[1], classify=classify)
    await proxy.start()
    try:
        yield proxy
    finally:
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
    async with proxied(["a"]) as proxy:
        reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
        payload = bytes(range(256)) * 4096  # 1 MiB: many chunks
        await roundtrip(reader, writer, payload)
        assert proxy.accepted == {"a": 1} and proxy.connections("a") == 1
        writer.close()


async def test_latency_hits_only_its_label() -> None:
    async with proxied(["slow", "fast"]) as proxy:
        slow = await asyncio.open_connection(proxy.host, proxy.port)
        fast = await asyncio.open_connection(proxy.host, proxy.port)
        await roundtrip(*slow, b"warm")
        await roundtrip(*fast, b"warm")
        proxy.latency(0.2, "slow")
        assert await roundtrip(*slow, b"x") >= 0.4  # 0.2 s each way
        assert await roundtrip(*fast, b"x") < 0.2
        proxy.clear()
        assert await roundtrip(*slow, b"x") < 0.2


async def test_a_blackhole_holds_the_bytes_until_healed() -> None:
    async with proxied(["a"]) as proxy:
        reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
        await roundtrip(reader, writer, b"before")
        proxy.blackhole("a")
        writer.write(b"during")
        await writer.drain()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.readexactly(6), 0.5)
        proxy.heal("a")
        assert await asyncio.wait_for(reader.readexactly(6), 5) == b"during"


async def test_a_new_connection_hangs_in_a_blackhole() -> None:
    async with proxied(["a", "a"]) as proxy:
        proxy.blackhole()
        reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
        writer.write(b"hello")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.readexactly(5), 0.5)
        proxy.heal()
        assert await asyncio.wait_for(reader.readexactly(5), 5) == b"hello"


async def test_reset_cuts_the_labels_connections_with_an_rst() -> None:
    async with proxied(["victim", "bystander"]) as proxy:
        victim = await asyncio.open_connection(proxy.host, proxy.port)
        bystander = await asyncio.open_connection(proxy.host, proxy.port)
        await roundtrip(*victim, b"a")
        await roundtrip(*bystander, b"a")
        assert proxy.reset("victim") == 1
        with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
            await roundtrip(*victim, b"b")
        assert await roundtrip(*bystander, b"still here") < 1.0


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
