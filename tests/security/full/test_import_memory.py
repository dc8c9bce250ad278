"""The import routes stream a 1 GiB body rather than hold it (issue #20, abuse).

A 1 GiB CSV upload goes through the stack's gateway to the orders service's import while
the resident memory (RSS) of both processes is sampled every 0.2 s. Buffering the body
anywhere would add a GiB; streaming adds a few chunk buffers. Two bodies:

    a header then 1 GiB of blank lines   read to the end (the job completes, 0 rows)
    a quote opened and never closed      the reader stops at MAX_LINE_BYTES (the job
                                         fails, naming the record), memory stays flat

Run by ``make test-faults`` (it takes a few minutes on a loaded machine); the figures are
printed and recorded in docs/security.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import httpx
import psutil
import pytest

from relacja_devstack import Stack

from ..conftest import staff_token

pytestmark = pytest.mark.stack

GIB = 1 << 30
LINE = b" " * 1023 + b"\n"
CHUNK_LINES = 1024  # 1 MiB chunks
HEADER = b"customer_external_id,placed_at,total_amount,currency\n"
GROWTH_BOUND = 256 << 20  # a buffered body would add 1 GiB


def process_on_port(port: int) -> psutil.Process:
    for connection in psutil.net_connections(kind="tcp"):
        if (
            connection.status == psutil.CONN_LISTEN
            and connection.laddr
            and connection.laddr[1] == port
            and connection.pid
        ):
            return psutil.Process(connection.pid)
    raise AssertionError(f"nothing listens on port {port}")


def tree_rss(process: psutil.Process) -> int:
    """The RSS of a process and its children (uvicorn may run the app in a child)."""
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += child.memory_info().rss
    return total


async def body(first: bytes, size: int) -> AsyncIterator[bytes]:
    yield first
    sent = len(first)
    chunk = LINE * CHUNK_LINES
    while sent + len(chunk) <= size:
        yield chunk
        sent += len(chunk)


async def upload(stack: Stack, first: bytes) -> tuple[httpx.Response | Exception, dict[str, int], float]:
    ports = {"gateway": stack.config.port("gateway"), "orders": stack.config.port("orders")}
    processes = {name: process_on_port(port) for name, port in ports.items()}
    baseline = {name: tree_rss(p) for name, p in processes.items()}
    peak = dict(baseline)
    done = asyncio.Event()

    async def sample() -> None:
        while not done.is_set():
            for name, process in processes.items():
                peak[name] = max(peak[name], tree_rss(process))
            await asyncio.sleep(0.2)

    sampler = asyncio.create_task(sample())
    headers = {"Authorization": f"Bearer {staff_token(stack, ['orders:write'])}", "content-type": "text/csv"}
    started = time.monotonic()
    answer: httpx.Response | Exception
    try:
        async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=900) as client:
            answer = await client.post("/api/v1/orders/imports", content=body(first, GIB - 4096), headers=headers)
    except httpx.TransportError as exc:  # a service that stops reading may close the upload early
        answer = exc
    finally:
        done.set()
        await sampler
    elapsed = time.monotonic() - started
    growth = {name: peak[name] - baseline[name] for name in processes}
    print(
        f"1 GiB upload in {elapsed:.1f} s; RSS growth (MiB): "
        + ", ".join(f"{n} {g / 2**20:.1f}" for n, g in growth.items())
    )
    return answer, growth, elapsed


async def test_a_1_gib_import_streams_through_gateway_and_service(stack: Stack) -> None:
    answer, growth, _ = await upload(stack, HEADER)
    assert isinstance(answer, httpx.Response), answer
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert job["status"] == "completed" and job["rows_total"] == 0, job
    assert all(g < GROWTH_BOUND for g in growth.values()), growth


async def test_a_quote_never_closed_does_not_gather_the_upload(stack: Stack) -> None:
    answer, growth, _ = await upload(stack, HEADER + b'"')
    if isinstance(answer, httpx.Response):
        assert answer.status_code == 202, answer.text
        assert answer.json()["status"] == "failed" and "longer than" in answer.json()["failure"], answer.text
    assert all(g < GROWTH_BOUND for g in growth.values()), growth
