"""Which failures count as a dependency being unavailable (503 with Retry-After for a
caller, an unlimited retry for a consumer) and which are a bug (500, or the dead-letter
topic after the retry budget)."""

from __future__ import annotations

import itertools

import asyncpg.exceptions
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from relacja_messaging.errors import is_transient
from relacja_servicekit.problems import unexpected_error_problem


def test_an_exhausted_connection_pool_is_a_503_with_retry_after_not_a_500() -> None:
    exhausted = PoolTimeoutError("QueuePool limit of size 10 overflow 10 reached, connection timed out, timeout 5.00")
    assert is_transient(exhausted)
    problem = unexpected_error_problem(exhausted, retry_after_seconds=5)
    assert problem.status == 503 and problem.headers["Retry-After"] == "5"


def test_a_bug_stays_a_500() -> None:
    assert not is_transient(ValueError("a bug"))
    assert unexpected_error_problem(ValueError("a bug"), retry_after_seconds=5).status == 500


def test_asyncpg_connection_failures_are_transient_and_its_data_errors_are_not() -> None:
    # Raised by asyncpg itself on the paths that use the driver directly (COPY, orders' placement).
    assert is_transient(
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation")
    )
    assert is_transient(asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"))
    assert not is_transient(asyncpg.exceptions.UniqueViolationError("duplicate key value violates unique constraint"))


def _raised_from(*chain: BaseException) -> BaseException:
    """The first exception, raised from the second, raised from the third … (as a driver wraps)."""
    for outer, inner in itertools.pairwise(chain):
        outer.__cause__ = inner
    return chain[0]


def test_a_database_starting_up_is_transient_through_sqlalchemys_wrapping() -> None:
    # What SQLAlchemy raises while PostgreSQL restarts: a plain DBAPIError whose only clue is its
    # cause; the fault harness saw these answered 500 (docs/reliability.md, PostgreSQL restarted).
    starting = asyncpg.exceptions.CannotConnectNowError("the database system is starting up")
    wrapped = _raised_from(DBAPIError(None, None, RuntimeError("dialect error")), RuntimeError("dialect"), starting)
    assert is_transient(wrapped)
    problem = unexpected_error_problem(wrapped, retry_after_seconds=2)
    assert problem.status == 503 and problem.headers["Retry-After"] == "2"


def test_a_bug_wrapped_by_sqlalchemy_stays_a_bug() -> None:
    bug = asyncpg.exceptions.UniqueViolationError("duplicate key value violates unique constraint")
    assert not is_transient(_raised_from(DBAPIError(None, None, RuntimeError("dialect")), RuntimeError("dialect"), bug))


def test_a_connection_left_mid_operation_is_transient_and_a_codec_failure_is_not() -> None:
    left = asyncpg.exceptions.InternalClientError("cannot switch to state 12; another operation (2) is in progress")
    assert is_transient(left)
    assert not is_transient(asyncpg.exceptions.InternalClientError("no decoder for OID 16385"))
    assert not is_transient(asyncpg.exceptions.ProtocolError("cannot switch to state 12"))
