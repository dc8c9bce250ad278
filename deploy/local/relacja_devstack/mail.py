"""The SMTP sink as a part of the stack: ``smtp_sink.py`` run as a child process.

Spawned, awaited (a TCP accept on its port) and stopped like the broker; its output goes
to ``<state>/smtp.log`` and the mail to ``<state>/mail/`` (see ``smtp_sink.py``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .processes import ManagedProcess, StackError, ensure_port_free, tail, wait_for_port

__all__ = ["SmtpSink"]


class SmtpSink:
    """The sink as a child process of the stack (``<state>/smtp.log``)."""

    def __init__(self, state_dir: Path, mail_dir: Path, port: int, host: str = "127.0.0.1") -> None:
        self.state_dir = state_dir
        self.host = host
        self.port = port
        self.mail_dir = mail_dir
        self.log_path = state_dir / "smtp.log"
        self.process: ManagedProcess | None = None

    def is_running(self) -> bool:
        return self.process is not None and self.process.is_running()

    async def start(self, timeout: float = 30.0) -> None:
        if self.is_running():
            return
        ensure_port_free(self.host, self.port, "smtp sink", "RELACJA_STACK_SMTP_PORT")
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "relacja_devstack.smtp_sink"]
        argv += ["--host", self.host, "--port", str(self.port), "--mail-dir", str(self.mail_dir)]
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        self.process = ManagedProcess("smtp", argv, log_path=self.log_path, state_dir=self.state_dir, env=env)
        self.process.start()
        if not await wait_for_port(self.host, self.port, timeout, alive=self.process.is_running):
            code = self.process.returncode()
            await self.stop()
            raise StackError(
                f"smtp sink on {self.host}:{self.port} did not start listening (exit {code})\n"
                f"--- tail of {self.log_path} ---\n{tail(self.log_path)}"
            )

    async def stop(self) -> None:
        if self.process is not None:
            await self.process.stop(timeout=5.0)
