"""Child processes that never outlive the runner.

Every long-running child (the broker, each uvicorn) is started:

* in its own session/process group (``start_new_session``), so a Ctrl+C in the terminal
  reaches only the runner, which then stops things in the right order (services before
  the broker they flush to) and can kill a child together with anything it forked;
* on Linux with ``PR_SET_PDEATHSIG = SIGTERM``, so the kernel terminates it even when the
  runner is killed with SIGKILL (e.g. a CI timeout). Note that the kernel ties this to
  the *thread* that spawned the child: spawn from a thread that lives as long as the
  stack (the event loop's thread), never from a short-lived worker thread;
* recorded in ``<state>/pids.json``, so the next start can reap stragglers left by a run
  that died in a way even PDEATHSIG could not cover.

PostgreSQL is the exception: ``pg_ctl`` daemonises it and it is stopped with
``pg_ctl stop`` (see ``postgres.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

__all__ = [
    "ManagedProcess",
    "StackError",
    "ensure_port_free",
    "port_is_free",
    "reap_stale",
    "tail",
    "wait_for_port",
]

PIDS_FILE = "pids.json"


class StackError(RuntimeError):
    """The stack could not start (the message says why, with the relevant log tail)."""


def _pdeathsig_preexec():
    """A preexec_fn asking the kernel to SIGTERM the child when its parent dies.

    The libc function is resolved here, in the parent, so the child only makes one plain
    C call between fork and exec.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)

    return preexec


def tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file ('' when it does not exist)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 64 * 1024))
            text = fh.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def ensure_port_free(host: str, port: int, what: str, env_hint: str) -> None:
    """Fail early and clearly instead of letting a child die with 'address in use'."""
    if not port_is_free(host, port):
        raise StackError(
            f"{what}: port {host}:{port} is already in use (another stack of this profile "
            f"running? check `python -m relacja_devstack status`, or set {env_hint})"
        )


async def wait_for_port(host: str, port: int, timeout: float, alive=lambda: True) -> bool:
    """Poll until a TCP connect succeeds; False on timeout or when ``alive()`` turns False."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1.0)
        except (TimeoutError, OSError):
            await asyncio.sleep(0.05)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True
    return False


class ManagedProcess:
    """One child process, its log file and its process group."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        state_dir: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.state_dir = state_dir
        self.env = dict(os.environ if env is None else env)
        self.cwd = cwd
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def returncode(self) -> int | None:
        """None while running (or never started); the exit code once it has exited."""
        return self.popen.poll() if self.popen else None

    def is_running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def start(self) -> None:
        """Spawn the child with stdout+stderr appended to its log file."""
        if self.is_running():
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            log.write(f"\n----- {stamp} devstack starting {self.name}: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
                preexec_fn=_pdeathsig_preexec(),
            )
        _record_pid(self.state_dir, self.name, self.popen.pid)

    async def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, SIGKILL it after ``timeout`` seconds."""
        popen = self.popen
        if popen is None:
            return
        if popen.poll() is None:
            _signal_group(popen.pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while popen.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        # Whatever is left in the group (the main process if it ignored SIGTERM, or
        # anything it forked) is killed: nothing may outlive the stack.
        _signal_group(popen.pid, signal.SIGKILL)
        if popen.poll() is None:
            await asyncio.to_thread(popen.wait, 5)
        _forget_pid(self.state_dir, self.name)


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


# -- the pid file: reaping what a dead runner left behind -----------------------------


def _load(state_dir: Path) -> dict[str, dict[str, float]]:
    try:
        return json.loads((state_dir / PIDS_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return {}


def _save(state_dir: Path, data: dict[str, dict[str, float]]) -> None:
    path = state_dir / PIDS_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)


def _record_pid(state_dir: Path, name: str, pid: int) -> None:
    try:
        created = psutil.Process(pid).create_time()
    except psutil.Error:
        return
    data = _load(state_dir)
    data[name] = {"pid": pid, "create_time": created}
    _save(state_dir, data)


def _forget_pid(state_dir: Path, name: str) -> None:
    data = _load(state_dir)
    if data.pop(name, None) is not None:
        _save(state_dir, data)


def reap_stale(state_dir: Path, timeout: float = 5.0) -> list[str]:
    """Kill the process groups recorded by an earlier runner that are still alive.

    A pid only counts when its creation time matches the record, so a recycled pid of an
    unrelated process is never touched. Returns the names that were reaped.
    """
    reaped = []
    for name, rec in _load(state_dir).items():
        try:
            proc = psutil.Process(int(rec["pid"]))
            if abs(proc.create_time() - float(rec["create_time"])) > 0.01:
                continue
            if proc.status() == psutil.STATUS_ZOMBIE:  # already dead, awaiting its reaper
                continue
        except (psutil.Error, KeyError, ValueError):
            continue
        _signal_group(proc.pid, signal.SIGTERM)
        with contextlib.suppress(psutil.TimeoutExpired):
            proc.wait(timeout)
        _signal_group(proc.pid, signal.SIGKILL)
        reaped.append(name)
    with contextlib.suppress(FileNotFoundError):
        (state_dir / PIDS_FILE).unlink()
    return reaped
