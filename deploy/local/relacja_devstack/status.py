"""``python -m relacja_devstack status``: is a stack of this profile up, part by part?

It only probes the configured addresses (and the runner lock), so it works from any
terminal without talking to the runner.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from dataclasses import dataclass

from .config import StackConfig
from .processes import wait_for_port
from .stack import LOCK

__all__ = ["Probe", "probe"]


@dataclass(frozen=True)
class Probe:
    name: str
    address: str
    up: bool
    detail: str


def _runner(config: StackConfig) -> Probe:
    path = config.state_dir / LOCK
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return Probe("runner", str(config.state_dir), False, "never started here")
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = os.pread(fd, 64, 0).decode(errors="replace").strip()
        return Probe("runner", str(config.state_dir), True, f"pid {pid}")
    finally:
        os.close(fd)  # also drops our shared lock, if we got it
    return Probe("runner", str(config.state_dir), False, "not running")


async def _postgres(config: StackConfig) -> Probe:
    import asyncpg

    dsn = config.postgres_dsn()
    try:
        conn = await asyncpg.connect(dsn, timeout=2)
    except Exception as err:
        return Probe("postgres", dsn, False, type(err).__name__)
    try:
        version = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    return Probe("postgres", dsn, True, f"PostgreSQL {version}")


async def _broker(config: StackConfig) -> Probe:
    up = await wait_for_port(config.host, config.broker_port, timeout=1.0)
    return Probe("broker", config.bootstrap_servers, up, "accepting connections" if up else "no listener")


async def _smtp(config: StackConfig) -> Probe:
    up = await wait_for_port(config.host, config.smtp_port, timeout=1.0)
    address = f"{config.host}:{config.smtp_port}"
    return Probe("smtp", address, up, f"mail in {config.mail_dir}" if up else "no listener")


async def _service(config: StackConfig, name: str, client) -> Probe:
    url = config.service_url(name)
    try:
        response = await client.get(f"{url}/readyz")
    except Exception as err:
        return Probe(name, url, False, type(err).__name__)
    return Probe(name, url, response.status_code == 200, f"/readyz {response.status_code}")


async def probe(config: StackConfig) -> list[Probe]:
    import httpx

    async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
        parts = await asyncio.gather(
            _postgres(config),
            _broker(config),
            _smtp(config),
            *(_service(config, spec.name, client) for spec in config.services),
        )
    return [_runner(config), *parts]
