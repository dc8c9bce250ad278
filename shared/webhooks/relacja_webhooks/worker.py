"""The delivery worker: claim due messages, send them, record every attempt.

    DeliveryWorker.run()   forever: claim → send concurrently → record, pipelined
    DeliveryHooks          the owner service's callbacks, inside the recording transaction:
                           ``delivered`` (e.g. a disclosure-log row per message) and
                           ``endpoint_disabled`` (e.g. an outbox event)
    DeliveredMessage       what ``delivered`` gets per message

A claim is one transaction. It locks the enabled endpoints that have due messages
(``FOR UPDATE SKIP LOCKED``: several workers share the endpoints, and only one at a time
decides for a given endpoint, so its concurrency and rate limits hold across workers),
then per endpoint takes up to ``min(max_concurrency − in flight, rate tokens)`` due messages,
skipping any whose ordering key has an earlier message still pending or in flight — a later
event of a customer waits while an earlier one is retried — and marks them ``delivering``
with a lease. A worker that dies leaves leases that expire; the messages are then due again
(delivery is at-least-once; receivers de-duplicate on ``webhook-id``).

Results are recorded in batches, one transaction each: the attempts log, the messages' new
state (succeeded, retry at the schedule's next time, or failed for good), and the endpoints'
health: a 410 disables at once; an endpoint whose every attempt failed since ``failing_since``
for ``RetryPolicy.disable_after`` (5 days) is disabled too.

Idle: a round that claims nothing with nothing in flight sleeps ``poll_interval``, doubled
after each further empty round up to ``idle_poll_interval``, and back to ``poll_interval``
as soon as a round claims or records something — so an idle worker looks every
``idle_poll_interval`` (not ten times a second), and a message queued after a quiet spell waits at most
``idle_poll_interval`` (the default keeps the old behaviour: no backoff).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from prometheus_client import Counter
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .schedule import Outcome, RetryPolicy, classify, parse_retry_after, refill
from .signing import sign_headers, signing_secrets
from .tables import WebhookTables
from .transport import AttemptResult, WebhookSender

__all__ = ["DeliveredMessage", "DeliveryHooks", "WorkerSettings", "DeliveryWorker"]

log = logging.getLogger("relacja.webhooks")


@dataclass(frozen=True)
class DeliveredMessage:
    pk: int
    message_id: str
    endpoint_id: uuid.UUID
    event_type: str
    ordering_key: str
    meta: Mapping[str, Any] | None
    delivered_at: datetime


class DeliveryHooks(Protocol):
    async def delivered(self, session: AsyncSession, messages: Sequence[DeliveredMessage]) -> None: ...

    async def endpoint_disabled(
        self, session: AsyncSession, endpoint_id: uuid.UUID, reason: str, at: datetime
    ) -> None: ...


@dataclass(frozen=True)
class WorkerSettings:
    max_in_flight: int = 200
    claim_batch: int = 200
    poll_interval: float = 0.1
    #: The longest sleep of an idle worker (see the module docstring); poll_interval: no backoff.
    idle_poll_interval: float = 0.1
    #: After the first result of a round, wait this long for more: one transaction records them all.
    batch_window: float = 0.02
    lease: timedelta = timedelta(seconds=60)


@dataclass(frozen=True)
class _Claimed:
    pk: int
    message_id: str
    endpoint_id: uuid.UUID
    event_type: str
    ordering_key: str
    body: str
    meta: Mapping[str, Any] | None
    failures: int
    url: str
    secrets: Sequence[str]


@dataclass(frozen=True)
class _Finished:
    message: _Claimed
    attempted_at: datetime
    result: AttemptResult


@dataclass
class _EndpointState:
    in_flight: int
    max_concurrency: int
    rate: int | None
    tokens: float
    refilled_at: datetime | None
    url: str
    secrets: Sequence[str] = field(default_factory=list)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DeliveryWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        tables: WebhookTables,
        sender: WebhookSender,
        *,
        retry: RetryPolicy | None = None,
        hooks: DeliveryHooks | None = None,
        settings: WorkerSettings | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._sessions = sessions
        self._t = tables
        self._sender = sender
        self._retry = retry or RetryPolicy()
        self._hooks = hooks
        self._settings = settings or WorkerSettings()
        self._clock = clock
        self._in_flight: set[asyncio.Task[None]] = set()
        self._finished: list[_Finished] = []
        self._sql = _Sql(tables)
        self._leases_checked_at: datetime | None = None
        self._idle_sleep = self._settings.poll_interval

    @property
    def busy(self) -> bool:
        """Attempts in flight, or results not recorded yet."""
        return bool(self._in_flight or self._finished)

    async def run(self) -> None:
        try:
            while True:
                await self.step()
        finally:
            for task in self._in_flight:
                task.cancel()

    async def step(self) -> int:
        """One round, one transaction: record what finished, claim what room allows; then wait
        for results (a short batching window, so one transaction records many); the count claimed."""
        finished, self._finished = self._finished, []
        room = min(self._settings.max_in_flight - len(self._in_flight), self._settings.claim_batch)
        now = self._clock()
        try:
            async with self._sessions() as session, session.begin():
                if finished:
                    await self._record_in(session, finished, now)
                claimed = await self._claim_in(session, room, now) if room > 0 else []
        except BaseException:
            # Not recorded: the leases expire and the messages are tried again (at-least-once).
            log.exception("recording %d webhook attempts failed", len(finished))
            raise
        if claimed or finished:
            self._idle_sleep = self._settings.poll_interval
        for message in claimed:
            task = asyncio.create_task(self._attempt(message))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        if len(claimed) == room and room > 0:
            return len(claimed)  # a full round: there may be more at once
        if self._in_flight:
            done, _ = await asyncio.wait(
                set(self._in_flight), timeout=self._settings.poll_interval, return_when=asyncio.FIRST_COMPLETED
            )
            if done and self._in_flight:
                await asyncio.sleep(self._settings.batch_window)
        else:
            await asyncio.sleep(self._idle_sleep)
            self._idle_sleep = min(
                self._idle_sleep * 2, max(self._settings.idle_poll_interval, self._settings.poll_interval)
            )
        return len(claimed)

    # -- claim ------------------------------------------------------------------------------

    async def _claim_in(self, session: AsyncSession, capacity: int, now: datetime) -> list[_Claimed]:
        if self._leases_checked_at is None or now - self._leases_checked_at >= self._settings.lease / 4:
            await session.execute(text(self._sql.expire_leases), {"now": now})
            self._leases_checked_at = now
        rows = (await session.execute(text(self._sql.lock_endpoints), {"now": now})).mappings().all()
        states: dict[uuid.UUID, _EndpointState] = {}
        limits: dict[uuid.UUID, int] = {}
        for row in rows:
            tokens, allowed = refill(row["rate_tokens"], row["rate_refilled_at"], row["rate_limit_per_second"], now)
            state = _EndpointState(
                in_flight=row["in_flight"],
                max_concurrency=row["max_concurrency"],
                rate=row["rate_limit_per_second"],
                tokens=tokens,
                refilled_at=row["rate_refilled_at"],
                url=row["url"],
                secrets=signing_secrets(row["secret"], row["previous_secret"], row["previous_secret_expires_at"], now),
            )
            limit = min(state.max_concurrency - state.in_flight, allowed, capacity)
            if limit > 0:
                states[row["id"]] = state
                limits[row["id"]] = limit
                capacity -= limit
            if capacity <= 0:
                break
        if not limits:
            return []
        claimed = (
            (
                await session.execute(
                    text(self._sql.claim_messages),
                    {
                        "now": now,
                        "lease_until": now + self._settings.lease,
                        "endpoint_ids": list(limits),
                        "limits": list(limits.values()),
                    },
                )
            )
            .mappings()
            .all()
        )
        counts: dict[uuid.UUID, int] = {}
        for row in claimed:
            counts[row["endpoint_id"]] = counts.get(row["endpoint_id"], 0) + 1
        limited = [(eid, s) for eid, s in states.items() if s.rate is not None]
        if limited:
            await session.execute(
                text(self._sql.spend_tokens),
                {
                    "now": now,
                    "ids": [eid for eid, _ in limited],
                    "tokens": [s.tokens - counts.get(eid, 0) for eid, s in limited],
                },
            )
        return [
            _Claimed(
                pk=row["id"],
                message_id=row["message_id"],
                endpoint_id=row["endpoint_id"],
                event_type=row["event_type"],
                ordering_key=row["ordering_key"],
                body=row["body"],
                meta=row["meta"],
                failures=row["failures"],
                url=states[row["endpoint_id"]].url,
                secrets=states[row["endpoint_id"]].secrets,
            )
            for row in claimed
        ]

    # -- send -------------------------------------------------------------------------------

    async def _attempt(self, message: _Claimed) -> None:
        attempted_at = self._clock()
        body = message.body.encode()
        headers = sign_headers(message.message_id, attempted_at, body, message.secrets)
        result = await self._sender.send(message.url, headers, body)
        self._finished.append(_Finished(message, attempted_at, result))

    # -- record -----------------------------------------------------------------------------

    async def _record_in(self, session: AsyncSession, finished: Sequence[_Finished], now: datetime) -> None:
        await session.execute(
            insert(self._t.attempts),
            [
                {
                    "message_pk": f.message.pk,
                    "endpoint_id": f.message.endpoint_id,
                    "attempted_at": f.attempted_at,
                    "outcome": classify(f.result.status_code).value,
                    "status_code": f.result.status_code,
                    "latency_ms": f.result.latency_ms,
                    "error": f.result.error,
                    "response_excerpt": f.result.response_excerpt,
                }
                for f in finished
            ],
        )
        updates: dict[str, list[Any]] = {"ids": [], "statuses": [], "failures": [], "next": [], "delivered": []}
        delivered: list[DeliveredMessage] = []
        succeeded_endpoints: set[uuid.UUID] = set()
        gone_endpoints: set[uuid.UUID] = set()
        first_failure: dict[uuid.UUID, datetime] = {}
        for f in finished:
            outcome = classify(f.result.status_code)
            DELIVERIES.labels(outcome.value).inc()
            message = f.message
            failures, next_at, delivered_at = message.failures, None, None
            if outcome is Outcome.SUCCEEDED:
                status, delivered_at = "succeeded", now
                succeeded_endpoints.add(message.endpoint_id)
                delivered.append(
                    DeliveredMessage(
                        message.pk,
                        message.message_id,
                        message.endpoint_id,
                        message.event_type,
                        message.ordering_key,
                        message.meta,
                        now,
                    )
                )
            elif outcome is Outcome.GONE:
                status, failures = "failed", failures + 1
                gone_endpoints.add(message.endpoint_id)
            else:
                failures += 1
                retry_after = parse_retry_after(f.result.status_code, f.result.retry_after, now)
                next_at = self._retry.next_attempt_at(failures, now, retry_after)
                status = "pending" if next_at is not None else "failed"
                earliest = first_failure.get(message.endpoint_id)
                first_failure[message.endpoint_id] = min(earliest, f.attempted_at) if earliest else f.attempted_at
            for key, value in (
                ("ids", message.pk),
                ("statuses", status),
                ("failures", failures),
                ("next", next_at),
                ("delivered", delivered_at),
            ):
                updates[key].append(value)
        await session.execute(text(self._sql.finish_messages), updates)
        if succeeded_endpoints:
            await session.execute(text(self._sql.healthy), {"ids": list(succeeded_endpoints)})
        await self._disable(session, gone_endpoints, "gone", now)
        failing_only = {eid: at for eid, at in first_failure.items() if eid not in succeeded_endpoints | gone_endpoints}
        if failing_only:
            rows = (
                await session.execute(
                    text(self._sql.failing),
                    {"ids": list(failing_only), "since": list(failing_only.values())},
                )
            ).all()
            expired = {eid for eid, since in rows if self._retry.should_disable(since, now)}
            await self._disable(session, expired, "failing", now)
        if delivered and self._hooks is not None:
            await self._hooks.delivered(session, delivered)

    async def _disable(self, session: AsyncSession, endpoint_ids: set[uuid.UUID], reason: str, now: datetime) -> None:
        if not endpoint_ids:
            return
        disabled = (
            (await session.execute(text(self._sql.disable), {"ids": list(endpoint_ids), "reason": reason, "now": now}))
            .scalars()
            .all()
        )
        for endpoint_id in disabled:
            log.warning("webhook endpoint %s disabled (%s)", endpoint_id, reason)
            ENDPOINTS_DISABLED.labels(reason).inc()
            if self._hooks is not None:
                await self._hooks.endpoint_disabled(session, endpoint_id, reason, now)


DELIVERIES = Counter(
    "relacja_webhook_deliveries_total",
    "Webhook delivery attempts, by outcome: succeeded, failed (retried until the schedule ends), gone (410)",
    ["outcome"],
)
ENDPOINTS_DISABLED = Counter(
    "relacja_webhook_endpoints_disabled_total",
    "Webhook endpoints the sender disabled: gone (it answered 410) or failing (for the disabling window)",
    ["reason"],
)


class _Sql:
    """The worker's statements, with this service's table names."""

    def __init__(self, tables: WebhookTables) -> None:
        e, m = tables.endpoints.name, tables.messages.name
        self.expire_leases = (
            f"UPDATE {m} SET status = 'pending', lease_until = NULL WHERE status = 'delivering' AND lease_until < :now"
        )
        self.lock_endpoints = f"""
            SELECT e.id, e.url, e.secret, e.previous_secret, e.previous_secret_expires_at, e.max_concurrency,
                   e.rate_limit_per_second, e.rate_tokens, e.rate_refilled_at,
                   (SELECT count(*) FROM {m} f WHERE f.endpoint_id = e.id AND f.status = 'delivering') AS in_flight
            FROM {e} e
            WHERE e.status = 'enabled'
              AND EXISTS (SELECT 1 FROM {m} d
                          WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.next_attempt_at <= :now)
            FOR UPDATE OF e SKIP LOCKED
        """
        self.claim_messages = f"""
            UPDATE {m} SET status = 'delivering', lease_until = :lease_until, last_attempt_at = :now
            WHERE id IN (
                SELECT c.id
                FROM unnest(CAST(:endpoint_ids AS uuid[]), CAST(:limits AS int[])) AS q(endpoint_id, lim)
                CROSS JOIN LATERAL (
                    SELECT d.id FROM {m} d
                    WHERE d.endpoint_id = q.endpoint_id AND d.status = 'pending' AND d.next_attempt_at <= :now
                      AND NOT EXISTS (
                          SELECT 1 FROM {m} p
                          WHERE p.endpoint_id = d.endpoint_id AND p.ordering_key = d.ordering_key
                            AND p.id < d.id AND p.status IN ('pending', 'delivering'))
                    ORDER BY d.next_attempt_at, d.id
                    LIMIT q.lim
                    FOR UPDATE SKIP LOCKED
                ) AS c
            )
            RETURNING id, message_id, endpoint_id, event_type, ordering_key, body, meta, failures
        """
        self.spend_tokens = f"""
            UPDATE {e} SET rate_tokens = q.tokens, rate_refilled_at = :now
            FROM unnest(CAST(:ids AS uuid[]), CAST(:tokens AS double precision[])) AS q(id, tokens)
            WHERE {e}.id = q.id
        """
        self.finish_messages = f"""
            UPDATE {m} SET status = CASE WHEN {m}.cancelled_at IS NOT NULL AND q.status = 'pending'
                                         THEN 'cancelled' ELSE q.status END,
                           failures = q.failures,
                           next_attempt_at = coalesce(q.next_at, {m}.next_attempt_at),
                           lease_until = NULL, delivered_at = coalesce(q.delivered_at, {m}.delivered_at)
            FROM unnest(CAST(:ids AS bigint[]), CAST(:statuses AS text[]), CAST(:failures AS int[]),
                        CAST(:next AS timestamptz[]), CAST(:delivered AS timestamptz[]))
                 AS q(id, status, failures, next_at, delivered_at)
            WHERE {m}.id = q.id AND {m}.status = 'delivering'
        """
        self.healthy = (
            f"UPDATE {e} SET failing_since = NULL WHERE id = ANY(CAST(:ids AS uuid[])) AND failing_since IS NOT NULL"
        )
        self.failing = f"""
            UPDATE {e} SET failing_since = coalesce({e}.failing_since, q.since)
            FROM unnest(CAST(:ids AS uuid[]), CAST(:since AS timestamptz[])) AS q(id, since)
            WHERE {e}.id = q.id AND {e}.status = 'enabled'
            RETURNING {e}.id, {e}.failing_since
        """
        self.disable = f"""
            UPDATE {e} SET status = 'disabled', disabled_reason = :reason, disabled_at = :now,
                           version = version + 1, updated_at = :now
            WHERE id = ANY(CAST(:ids AS uuid[])) AND status = 'enabled'
            RETURNING id
        """
