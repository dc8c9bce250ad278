"""The local SMTP sink: a real SMTP server (aiosmtpd) that keeps every message as a file.

The engagement service delivers e-mail through SMTP; locally nothing may leave the
machine, yet a developer (``make run``) and the tests (``make test``) must see what was
sent. So the stack runs this sink before the services and points them at it:

* :class:`MailDirHandler` — the aiosmtpd handler: each accepted message becomes one
  ``<state>/mail/<receipt time ns>-<random>.eml`` (RFC 5322 bytes as received, with the
  envelope prepended as ``X-MailFrom`` / ``X-RcptTo`` / ``X-Peer`` headers). It is
  written under ``mail/.incoming/`` and renamed into place, so a reader that lists
  ``*.eml`` never sees half a message.
* :func:`serve` — the server in the current event loop until cancelled;
  ``python -m relacja_devstack.smtp_sink --host --port --mail-dir`` runs it as a process,
  which ``mail.SmtpSink`` spawns as a part of the stack. (Nothing in the package imports
  this module, so running it with ``-m`` executes it once.)

It accepts every sender and recipient, offers no AUTH and no TLS: it listens on
127.0.0.1 for the local stack only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["INCOMING", "MailDirHandler", "main", "serve"]

INCOMING = ".incoming"  # same file system as the mail folder, so the rename is atomic
_HOSTNAME = "relacja-smtp-sink"  # fixed: aiosmtpd would otherwise ask DNS for the FQDN


class MailDirHandler:
    """aiosmtpd handler writing each message atomically as one ``.eml`` file."""

    def __init__(self, mail_dir: Path) -> None:
        self.mail_dir = mail_dir
        self.incoming = mail_dir / INCOMING
        self.incoming.mkdir(parents=True, exist_ok=True)

    def store(self, mail_from: str, rcpt_tos: list[str], peer: object, content: bytes) -> Path:
        """Write one message; return its final path (a name that sorts by receipt time)."""
        name = f"{time.time_ns():020d}-{secrets.token_hex(4)}.eml"
        envelope = (
            f"X-Peer: {_peer_text(peer)}\r\nX-MailFrom: {mail_from}\r\nX-RcptTo: {', '.join(rcpt_tos)}\r\n"
        ).encode("utf-8", errors="surrogateescape")
        tmp = self.incoming / name
        tmp.write_bytes(envelope + content)
        final = self.mail_dir / name
        os.replace(tmp, final)
        return final

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # the name aiosmtpd calls
        content = envelope.original_content if envelope.original_content is not None else envelope.content
        if isinstance(content, str):  # only with decode_data=True, which serve() does not set
            content = content.encode("utf-8")
        try:
            self.store(envelope.mail_from or "", list(envelope.rcpt_tos), session.peer, content or b"")
        except OSError as err:  # a full disk: the client is told to retry later, nothing is lost silently
            return f"451 Requested action aborted: cannot store the message ({err.strerror})"
        return "250 Message accepted for delivery"


def _peer_text(peer: object) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)


async def serve(host: str, port: int, mail_dir: Path, ready: asyncio.Event | None = None) -> None:
    """Run the sink in the running loop until cancelled."""
    from aiosmtpd.smtp import SMTP

    handler = MailDirHandler(mail_dir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname=_HOSTNAME, enable_SMTPUTF8=True, loop=loop),
        host=host,
        port=port,
        reuse_address=True,
    )
    if ready is not None:
        ready.set()
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m relacja_devstack.smtp_sink", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mail-dir", type=Path, required=True)
    args = parser.parse_args(argv)

    async def run() -> None:
        task = asyncio.ensure_future(serve(args.host, args.port, args.mail_dir))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        print(f"smtp sink on {args.host}:{args.port}, mail in {args.mail_dir}", flush=True)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
