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


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, _TRANSIENT_TYPES):
        return True
    cause = exc.__cause__ or exc.__context__
    return cause is not None and cause is not exc and isinstance(cause, (ConnectionError, OSError))
