"""Command line: ``python -m relacja_devstack {run,token,status} [--profile dev|test]``.

``run`` stays in the foreground until Ctrl+C or SIGTERM, then stops everything it
started (services, broker, PostgreSQL) before exiting.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from .backlog import BacklogLines
from .config import PROFILES, StackConfig
from .postgres import bin_dir
from .processes import StackError
from .stack import Stack, mint_local_token

__all__ = ["main"]

BANNER_TOKEN_TTL = 12 * 3600


def _banner(stack: Stack, token: str | None) -> str:
    cfg = stack.config
    lines = [f"Relacja local stack (profile {cfg.profile}) is ready:", ""]
    lines.append(f"  {'gateway':<14}{stack.gateway_url}")
    for spec in cfg.services:
        if not spec.is_gateway:
            lines.append(f"  {spec.name:<14}{stack.service_url(spec.name)}")
    lines.append(f"  {'broker':<14}{stack.bootstrap_servers}  (Kafka protocol, in memory)")
    lines.append(f"  {'postgres':<14}{stack.postgres_dsn}")
    lines.append(f"  {'':<14}psql: {bin_dir() / 'psql'} {stack.postgres_dsn}")
    lines.append(f"  {'smtp':<14}{cfg.host}:{cfg.smtp_port}  (SMTP sink: nothing leaves this machine)")
    lines.append(f"  {'mail':<14}{stack.mail_dir}/  (every sent e-mail, one .eml file each)")
    lines.append(f"  {'logs':<14}{cfg.logs_dir}/")
    if token:
        lines += [
            "",
            f"Local admin token (valid {BANNER_TOKEN_TTL // 3600} h):",
            f"  {token}",
            "",
            f'  curl -H "Authorization: Bearer <token>" {stack.gateway_url}/...',
        ]
    lines += ["", "Press Ctrl+C to stop."]
    return "\n".join(lines)


async def _run(config: StackConfig, fresh: bool | None) -> int:
    stack = Stack(config)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    if not await _start_unless_interrupted(stack, fresh, stopping):
        print("interrupted during start; stopped.", file=sys.stderr, flush=True)
        return 130
    try:
        try:
            token = stack.token(ttl_seconds=BANNER_TOKEN_TTL)
        except Exception as err:  # the stack is still useful without one
            logging.getLogger("relacja_devstack").warning("could not mint a token: %r", err)
            token = None
        print(_banner(stack, token), flush=True)
        await _watch(stack, stopping)
        return 0
    finally:
        print("stopping ...", file=sys.stderr, flush=True)
        await stack.stop()
        print("stopped.", file=sys.stderr, flush=True)


async def _start_unless_interrupted(stack: Stack, fresh: bool | None, stopping: asyncio.Event) -> bool:
    """Start the stack; False when a signal came first (start() cleans up when cancelled).

    A failed start raises; it has already stopped whatever it had started.
    """
    start = asyncio.create_task(stack.start(fresh=fresh))
    interrupted = asyncio.create_task(stopping.wait())
    try:
        await asyncio.wait({start, interrupted}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        interrupted.cancel()
    if not start.done():
        start.cancel()
        await asyncio.gather(start, return_exceptions=True)
        return False
    start.result()
    return True


async def _watch(stack: Stack, stopping: asyncio.Event) -> None:
    """Until a signal: report a service that dies (once), keep the rest running, and print
    the consumers' lines about a backlog being digested (backlog.py)."""
    reported: set[str] = set()
    backlog = BacklogLines({spec.name: stack.service_log(spec.name) for spec in stack.config.services})
    while not stopping.is_set():
        for line in backlog.poll():
            print(line, flush=True)
        for name, code in stack.exited_services().items():
            if name not in reported:
                reported.add(name)
                print(f"!! {name} exited with code {code}; see {stack.service_log(name)}", file=sys.stderr, flush=True)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stopping.wait(), 1.0)


async def _status(config: StackConfig) -> int:
    from .status import probe

    probes = await probe(config)
    for p in probes:
        print(f"{p.name:<14}{'up' if p.up else 'DOWN':<6}{p.address:<48}{p.detail}")
    return 0 if all(p.up for p in probes) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m relacja_devstack",
        description="Relacja's local stack: PostgreSQL, a Kafka-protocol broker, an SMTP sink and every service.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help)
        p.add_argument("--profile", choices=sorted(PROFILES), default="dev")
        return p

    run = add("run", "start the stack in the foreground until Ctrl+C")
    run.add_argument(
        "--fresh",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="empty the state folder first (default: the profile's)",
    )
    token = add("token", "print a bearer token for the profile's gateway")
    token.add_argument("--scopes", default="admin", help="comma- or space-separated scopes (default: admin)")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default: 3600)")
    token.add_argument("--subject", default="local-admin")
    add("status", "show which parts of the profile's stack are up")
    args = parser.parse_args(argv)

    config = StackConfig.for_profile(args.profile)
    if args.command == "token":
        scopes = [s for s in args.scopes.replace(",", " ").split() if s]
        try:
            print(mint_local_token(config, scopes, args.ttl, args.subject))
        except ImportError as err:
            print(f"devstack: the gateway's token helper is not available: {err}", file=sys.stderr)
            return 1
        return 0
    if args.command == "status":
        return asyncio.run(_status(config))

    logging.basicConfig(level=logging.INFO, format="%(asctime)s devstack %(message)s", datefmt="%H:%M:%S")
    for noisy in ("httpx", "aiokafka"):  # one line per readiness poll / connection
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return asyncio.run(_run(config, args.fresh))
    except StackError as err:
        print(f"devstack: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
