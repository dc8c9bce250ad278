"""The whole local stack as one object: what ``make run`` runs and what the tests drive.

Start order: PostgreSQL, the broker with its topics and the SMTP sink (in parallel) → one database per
service and its Alembic migrations → every service and the gateway, spawned together so
their (slow) Python imports overlap; ``start`` returns when all answer ``/readyz``.
Stop order: gateway, services (so they can close consumers and producers while the
broker is still there), broker, SMTP sink, PostgreSQL.

With ``config.fault_proxies`` the services reach PostgreSQL and the broker through the
fault proxies (``faultproxy.py``, one per service and link: :meth:`Stack.proxy`), and
the fault harness (tests/faults/) uses :meth:`Stack.kill_service`,
:meth:`Stack.restart_postgres`, :meth:`Stack.pause_service` besides the broker's restart.

The API is async because the test suite is pytest-asyncio; the CLI wraps it in
``asyncio.run``. Call it from the thread that runs the event loop for the whole life of
the stack (see ``processes.py`` on PDEATHSIG).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import shutil
import signal
import sys
from collections.abc import Awaitable, Iterable, Sequence
from pathlib import Path

from .broker import Broker
from .config import StackConfig
from .faultproxy import FaultProxy
from .mail import SmtpSink
from .postgres import Postgres
from .processes import ManagedProcess, StackError, ensure_port_free, reap_stale, tail
from .services import ServiceSpec

__all__ = ["Stack", "StackError", "mint_local_token"]

log = logging.getLogger("relacja_devstack")

MARKER = ".relacja-devstack"  # marks a folder this runner may wipe
LOCK = "runner.lock"  # flock-ed by the live runner; the kernel drops it when we die
# One service's migrations; a machine shared by many stacks (CPU starved) may need longer.
MIGRATE_TIMEOUT = float(os.environ.get("RELACJA_STACK_MIGRATE_TIMEOUT", "300"))


def mint_local_token(
    config: StackConfig,
    scopes: Sequence[str] = ("admin",),
    ttl_seconds: int = 3600,
    subject: str = "local-admin",
) -> str:
    """A bearer token the profile's gateway accepts (signed with the config's secret)."""
    from relacja_gateway.tokens import mint_token

    return mint_token(secret=config.jwt_secret, subject=subject, scopes=list(scopes), ttl_seconds=ttl_seconds)


class Stack:
    """PostgreSQL + broker + every service of ``config``; see the module docstring."""

    def __init__(self, config: StackConfig | None = None) -> None:
        self.config = config or StackConfig.for_profile("dev")
        self.postgres = Postgres(self.config.state_dir, self.config.pg_port, self.config.host)
        self.broker = Broker(self.config.state_dir, self.config.broker_port, self.config.host)
        self.smtp = SmtpSink(self.config.state_dir, self.config.mail_dir, self.config.smtp_port, self.config.host)
        self._services: dict[str, ManagedProcess] = {}
        self._lock_fd: int | None = None
        self._owns_postgres = False
        # (service, "postgres" | "broker") -> the fault proxy on that link (config.fault_proxies).
        self.proxies: dict[tuple[str, str], FaultProxy] = {}
        if self.config.fault_proxies:
            host = self.config.host
            for spec in self.config.services:
                if spec.database:
                    self.proxies[(spec.name, "postgres")] = FaultProxy(
                        f"{spec.name}-postgres", host, self.config.pg_port, host=host
                    )
                if not spec.is_gateway:
                    self.proxies[(spec.name, "broker")] = FaultProxy(
                        f"{spec.name}-broker", host, self.config.broker_port, host=host, kafka=True
                    )

    # -- addresses ------------------------------------------------------------------------

    @property
    def bootstrap_servers(self) -> str:
        return self.config.bootstrap_servers

    @property
    def gateway_url(self) -> str:
        return self.config.gateway_url

    def service_url(self, name: str) -> str:
        return self.config.service_url(name)

    @property
    def mail_dir(self) -> Path:
        """``<state>/mail/``: one ``.eml`` file per message the SMTP sink received."""
        return self.config.mail_dir

    @property
    def smtp_address(self) -> tuple[str, int]:
        return self.config.host, self.config.smtp_port

    def database_url(self, name: str) -> str:
        """``postgresql+asyncpg://postgres@127.0.0.1:<pg>/relacja_<name>``."""
        return self.config.database_url(name)

    @property
    def postgres_dsn(self) -> str:
        return self.config.postgres_dsn()

    def service_log(self, name: str) -> Path:
        self.config.service(name)
        return self.config.logs_dir / f"{name}.log"

    def token(self, scopes: Sequence[str] = ("admin",), ttl_seconds: int = 3600, subject: str = "local-admin") -> str:
        return mint_local_token(self.config, scopes, ttl_seconds, subject)

    # -- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> Stack:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self, fresh: bool | None = None) -> None:
        """Start everything and wait until every service answers ``/readyz`` with 200.

        ``fresh`` (default: the profile's, True for ``test``) empties the state folder
        first. On any failure, or cancellation, whatever was started is stopped again and
        a :class:`StackError` carries the failing part's log tail.
        """
        cfg = self.config
        self._acquire_lock()
        try:
            self._preflight()
            self._prepare_state(cfg.fresh if fresh is None else fresh)
            await self._start_proxies()
            log.info(
                "starting PostgreSQL on %s:%s, the broker on %s and the SMTP sink on %s:%s",
                cfg.host,
                cfg.pg_port,
                self.bootstrap_servers,
                cfg.host,
                cfg.smtp_port,
            )
            await _first_failure([self._start_postgres(), self.broker.start(), self.smtp.start()])
            await self._prepare_databases()
            await self._start_services(cfg.services)
        except BaseException:
            await self.stop()
            raise

    async def start_infrastructure(self, fresh: bool | None = None) -> None:
        """Start PostgreSQL (with every service's empty database), the broker and the SMTP sink, nothing else.

        For running the services some other way — their container images
        (deploy/images/test_images.py) — against the same parts the stack uses. The
        services' ports are still checked free: whatever runs them will need them.
        """
        cfg = self.config
        self._acquire_lock()
        try:
            self._preflight()
            self._prepare_state(cfg.fresh if fresh is None else fresh)
            await _first_failure([self._start_postgres(), self.broker.start(), self.smtp.start()])
            await self.postgres.ensure_databases(s.database_name for s in cfg.services if s.database)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop what this object started: gateway, services, broker, SMTP sink, PostgreSQL. Idempotent."""
        gateways = [s for s in self.config.services if s.is_gateway]
        others = [s for s in self.config.services if not s.is_gateway]
        for group in (gateways, others):
            await asyncio.gather(*(self.stop_service(s.name) for s in group), return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.broker.stop()
        for proxy in self.proxies.values():
            await proxy.stop()
        with contextlib.suppress(Exception):
            await self.smtp.stop()
        if self._owns_postgres:
            try:
                await asyncio.to_thread(self.postgres.stop)
            except Exception as err:  # keep going: the lock must still be released
                log.error("stopping PostgreSQL failed: %s", err)
            self._owns_postgres = False
        self._release_lock()

    async def start_broker(self) -> None:
        """(Re)start the broker; it comes back empty, so the topics are declared again."""
        await self.broker.start()

    async def stop_broker(self) -> None:
        await self.broker.stop()

    async def start_service(self, name: str) -> None:
        """(Re)start one service (its database is assumed migrated) and wait until ready."""
        await self._start_services([self.config.service(name)])

    async def stop_service(self, name: str) -> None:
        proc = self._services.get(name)
        if proc is not None:
            await proc.stop(timeout=10.0)

    async def kill_service(self, name: str) -> None:
        """``kill -9`` one service (its whole process group), as a crash would end it."""
        proc = self._services.get(name)
        if proc is not None and proc.popen is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.popen.pid, signal.SIGKILL)
            await asyncio.to_thread(proc.popen.wait, 10)

    def pause_service(self, name: str, paused: bool = True) -> None:
        """SIGSTOP (or SIGCONT with ``paused=False``) one service: it keeps its sockets, does nothing."""
        pid = self.service_pid(name)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGSTOP if paused else signal.SIGCONT)

    def service_pid(self, name: str) -> int | None:
        proc = self._services.get(name)
        return proc.pid if proc is not None and proc.is_running() else None

    async def restart_postgres(self, down_seconds: float = 0.0) -> None:
        """Stop PostgreSQL (``pg_ctl stop -m fast``: every connection is cut), wait, start it again."""
        await asyncio.to_thread(self.postgres.stop)
        await asyncio.sleep(down_seconds)
        await asyncio.to_thread(self.postgres.start)
        await self.postgres.wait_accepting()

    def proxy(self, service: str, link: str) -> FaultProxy:
        """The fault proxy between ``service`` and ``link`` ("postgres" or "broker"); needs fault_proxies."""
        try:
            return self.proxies[(service, link)]
        except KeyError:
            raise KeyError(f"no fault proxy for {service} -> {link} (is config.fault_proxies on?)") from None

    def exited_services(self) -> dict[str, int]:
        """Services that were started and have since exited, with their exit codes."""
        return {name: code for name, proc in self._services.items() if (code := proc.returncode()) is not None}

    # -- steps ----------------------------------------------------------------------------

    def _acquire_lock(self) -> None:
        """One runner per state folder: a second one would steal the first one's processes."""
        if self._lock_fd is not None:
            return
        state = self.config.state_dir
        state.mkdir(parents=True, exist_ok=True)
        fd = os.open(state / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise StackError(
                f"another devstack runner (pid {holder}) is using {state}; stop it first, "
                f"or use another profile / RELACJA_STACK_STATE_DIR"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing drops the flock
            self._lock_fd = None

    def _preflight(self) -> None:
        """Fail before starting anything: missing migrations, service ports taken."""
        cfg = self.config
        for spec in cfg.services:
            ini = cfg.repo_root / spec.alembic_ini
            if spec.database and not ini.is_file():
                raise StackError(f"{spec.name}: no Alembic config at {ini}")
            if not (spec.name in self._services and self._services[spec.name].is_running()):
                ensure_port_free(cfg.host, cfg.port(spec.name), spec.name, f"RELACJA_STACK_{spec.name.upper()}_PORT")

    def _prepare_state(self, fresh: bool) -> None:
        state = self.config.state_dir
        reaped = reap_stale(state)
        if reaped:
            log.warning("killed processes left over by an earlier run: %s", ", ".join(reaped))
        if fresh:
            self.postgres.stop()  # a server left running on the old data would corrupt the new
            self.postgres.remove_socket_dir()
            _empty_state_dir(state)
        (state / MARKER).touch()
        self.config.logs_dir.mkdir(parents=True, exist_ok=True)

    async def _start_proxies(self) -> None:
        for proxy in self.proxies.values():
            await proxy.start()
        if self.proxies:
            log.info("fault proxies: %s", ", ".join(f"{p.name} {p.address}" for p in self.proxies.values()))

    async def _start_postgres(self) -> None:
        self._owns_postgres = True  # from here on, stop() must take it down
        await asyncio.to_thread(self.postgres.start)
        await self.postgres.wait_accepting()

    async def _prepare_databases(self) -> None:
        specs = [s for s in self.config.services if s.database]
        created = await self.postgres.ensure_databases(s.database_name for s in specs)
        if created:
            log.info("created databases: %s", ", ".join(created))
        await _first_failure([self._migrate(s) for s in specs])

    async def _migrate(self, spec: ServiceSpec) -> None:
        """``alembic upgrade heads`` in a subprocess, with the service's own environment."""
        ini = self.config.repo_root / spec.alembic_ini
        if not ini.is_file():
            raise StackError(f"{spec.name}: no Alembic config at {ini}")
        log_path = self.config.logs_dir / f"{spec.name}-migrate.log"
        with open(log_path, "ab") as out:  # noqa: ASYNC230 - a local append-only log: opening it does not wait on anything
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "alembic",
                "-c",
                str(ini),
                "upgrade",
                "heads",
                cwd=self.config.repo_root,
                env=self._service_env(spec),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
            try:
                code = await asyncio.wait_for(
                    proc.wait(), max(MIGRATE_TIMEOUT, self.config.migrate_timeout, self.config.ready_timeout)
                )
            except BaseException:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                raise
        if code != 0:
            raise StackError(
                f"{spec.name}: migrations failed (exit {code})\n--- tail of {log_path} ---\n{tail(log_path)}"
            )
        log.info("%s: migrations at head", spec.name)

    def _service_env(self, spec: ServiceSpec) -> dict[str, str]:
        cfg = self.config
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        # Local calls must never go through a developer's HTTP proxy.
        for key in ("NO_PROXY", "no_proxy"):
            env[key] = ",".join(filter(None, [env.get(key), "127.0.0.1", "localhost"]))
        prefix = spec.env_prefix
        env[f"{prefix}_ENVIRONMENT"] = cfg.environment
        if spec.database:
            env[f"{prefix}_DATABASE_URL"] = cfg.database_url(spec.name)
            if (pg_proxy := self.proxies.get((spec.name, "postgres"))) is not None:
                env[f"{prefix}_DATABASE_URL"] = env[f"{prefix}_DATABASE_URL"].replace(
                    f":{cfg.pg_port}/", f":{pg_proxy.port}/"
                )
        if spec.is_gateway:
            upstreams = {s.name: cfg.service_url(s.name) for s in cfg.services if not s.is_gateway}
            env[f"{prefix}_UPSTREAMS"] = json.dumps(upstreams)
            env[f"{prefix}_JWT_SECRET"] = cfg.jwt_secret
            if cfg.profile == "test":
                # The whole suite is one caller sending thousands of requests; the rate
                # limit itself is tested on a gateway of its own (tests/e2e/test_gateway_edge.py).
                env.setdefault(f"{prefix}_RATE_LIMIT_RATE", "2000")
                env.setdefault(f"{prefix}_RATE_LIMIT_BURST", "10000")
        else:
            broker_proxy = self.proxies.get((spec.name, "broker"))
            env[f"{prefix}_KAFKA_BOOTSTRAP"] = broker_proxy.address if broker_proxy else cfg.bootstrap_servers
        if spec.sends_mail:
            env[f"{prefix}_SMTP_HOST"] = cfg.host
            env[f"{prefix}_SMTP_PORT"] = str(cfg.smtp_port)
            # Links in the mail (review requests, unsubscribe) lead to this stack's gateway
            # (a partial stack without one — a benchmark — keeps the service's default).
            if any(s.is_gateway for s in cfg.services):
                env[f"{prefix}_PUBLIC_BASE_URL"] = cfg.gateway_url
        for name, value in spec.local_env:
            env.setdefault(f"{prefix}_{name}", value)
        # Only upstreams this stack runs: a partial stack (a benchmark of one service)
        # leaves the service its own default, as it has no upstream to ask.
        running = {s.name for s in cfg.services}
        for upstream in spec.reads_from:
            if upstream in running:
                env[f"{prefix}_{upstream.upper()}_URL"] = cfg.service_url(upstream)
        return env

    async def _start_services(self, specs: Iterable[ServiceSpec]) -> None:
        """Spawn the given services together, then wait until all are ready."""
        specs = list(specs)
        for spec in specs:
            old = self._services.get(spec.name)
            if old is not None and old.is_running():
                continue
            port = self.config.port(spec.name)
            ensure_port_free(self.config.host, port, spec.name, f"RELACJA_STACK_{spec.name.upper()}_PORT")
            proc = ManagedProcess(
                spec.name,
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    spec.app,
                    "--host",
                    self.config.host,
                    "--port",
                    str(port),
                    "--no-access-log",
                    "--timeout-graceful-shutdown",
                    "5",
                ],
                log_path=self.service_log(spec.name),
                state_dir=self.config.state_dir,
                env=self._service_env(spec),
                cwd=self.config.repo_root,
            )
            proc.start()
            self._services[spec.name] = proc
            log.info("%s: started (pid %s) on %s", spec.name, proc.pid, self.service_url(spec.name))
        await _first_failure([self._wait_ready(spec) for spec in specs])

    async def _wait_ready(self, spec: ServiceSpec) -> None:
        """Poll ``GET /readyz`` until 200; fail fast if the process exits."""
        import httpx

        proc = self._services[spec.name]
        url = f"{self.service_url(spec.name)}/readyz"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.ready_timeout
        last = "no answer"
        async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
            while True:
                if not proc.is_running():
                    raise StackError(self._service_failure(spec, f"exited with code {proc.returncode()}"))
                try:
                    response = await client.get(url)
                    if response.status_code == 200:
                        log.info("%s: ready", spec.name)
                        return
                    last = f"HTTP {response.status_code}: {response.text[:200]}"
                except httpx.TransportError as err:
                    last = repr(err)
                if loop.time() > deadline:
                    raise StackError(
                        self._service_failure(spec, f"not ready after {self.config.ready_timeout:.0f} s (last: {last})")
                    )
                await asyncio.sleep(0.2)

    def _service_failure(self, spec: ServiceSpec, what: str) -> str:
        path = self.service_log(spec.name)
        return f"{spec.name}: {what}\n--- tail of {path} ---\n{tail(path)}"


def _empty_state_dir(state: Path) -> None:
    """Delete the state folder's contents (not the lock), refusing a folder not ours."""
    if not state.exists():
        return
    children = [p for p in state.iterdir() if p.name != LOCK]
    if children and not (state / MARKER).exists():
        raise StackError(f"refusing to wipe {state}: it was not created by relacja_devstack (no {MARKER})")
    for child in children:
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


async def _first_failure(coros: Sequence[Awaitable[object]]) -> None:
    """Run concurrently; on the first exception cancel the rest and raise it."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    if not tasks:
        return
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    errors = [error for t in done if not t.cancelled() and (error := t.exception()) is not None]
    if len(errors) > 1 and all(isinstance(e, StackError) for e in errors):
        raise StackError("\n\n".join(str(e) for e in errors))
    if errors:
        raise errors[0]
