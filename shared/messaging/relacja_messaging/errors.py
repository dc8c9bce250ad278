"""Which failures are worth retrying forever, and which are the message's fault.

A database or broker that is down is *transient*: the consumer waits and retries without
limit, because sending a perfectly good event to the dead-letter topic just because
PostgreSQL restarted would lose it for the projection. Any other exception from a
handler counts against the event's retry budget and ends in the dead-letter topic.
"""

from __future__ import annotations

import asyncio

import asyncpg.exceptions
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

__all__ = ["is_transient"]

_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    asyncio.TimeoutError,
    OSError,
    InterfaceError,
    OperationalError,
    # Every pooled connection stayed busy for pool_timeout: the database is overloaded, not the
    # request wrong — a 503 with Retry-After for a caller, a retry for a consumer.
    PoolTimeoutError,
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
    # The same failures raised by asyncpg itself, on the paths that use the driver directly
    # (COPY, the orders' placement statements) and so bypass SQLAlchemy's wrapping: the
    # connection lost (class 08) or ended by a shutdown or restart of PostgreSQL.
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
)


# How far down the ``raise … from …`` chain to look: SQLAlchemy wraps the dialect's error,
# which wraps asyncpg's (two links); a few more leave room for our own wrappers.
_CAUSE_DEPTH = 5


def is_transient(exc: BaseException) -> bool:
    for link in _explicit_causes(exc):
        if isinstance(link, DBAPIError) and link.connection_invalidated:
            return True
        if isinstance(link, _TRANSIENT_TYPES) or _is_connection_left_mid_operation(link):
            return True
    # An error raised while handling a lost connection (no explicit ``from``): the same outage.
    context = exc.__context__
    return context is not None and context is not exc and isinstance(context, (ConnectionError, OSError))


def _explicit_causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it was explicitly raised from. SQLAlchemy translates asyncpg's
    ``CannotConnectNowError`` ("the database system is starting up", while PostgreSQL
    restarts) into a plain ``DBAPIError``: only its cause says it is the outage (found by
    the fault harness: 500s during the PostgreSQL restart)."""
    chain: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and link not in chain and len(chain) < _CAUSE_DEPTH:
        chain.append(link)
        link = link.__cause__
    return chain


def _is_connection_left_mid_operation(exc: BaseException) -> bool:
    """asyncpg's "cannot switch to state N; another operation (M) is in progress": a pooled
    connection whose last operation a connection cut interrupted (PostgreSQL's shutdown
    message arrived before the socket's end). Nothing was sent, and the pool discards the
    connection when its reset fails. asyncpg raises the same class for codec failures,
    which are not transient, so the message decides."""
    return type(exc) is asyncpg.exceptions.InternalClientError and str(exc).startswith("cannot switch to state")
