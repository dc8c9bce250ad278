"""The verdict every fault scenario ends with, read from the services' own databases.

1. **Every accepted write is present**: each order answered 201 is in the orders database
   with its number; each customer / ticket change answered 200 is there, or a later version
   is (a lost write would leave an older version behind).
2. **Every event applied exactly once by every consumer**: for each consumer group found in
   an inbox, every outbox event (of every service) written since the scenario began whose
   type that consumer handles has its inbox row, applied (a dead-lettered real event counts
   as not applied: only the scenarios' own poison event may be dead-lettered).
   The inbox's primary key (consumer, event id) makes a second application impossible to
   record; that the *effect* was not doubled anyway is checked on effects that count:
   segmentation's ``orders_count`` per customer does not exceed the orders the orders database
   holds for that customer, and no order reached the partner's webhook endpoint under two
   different ``webhook-id``s (a redelivery of one ``webhook-id`` is the standard's
   at-least-once and is reported, not counted as doubled).
3. **Projections equal a rebuild by replay** (``rebuild.py``): segmentation's projection
   rebuilt into an empty database from the topics has the same checksum.
4. **Nothing stuck**: every outbox is empty (all published) and (2) holds within
   ``bound`` seconds; the time it took is the scenario's *recovery time*.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from relacja_devstack import Stack

from .load import SteadyLoad

__all__ = ["Verdict", "judge"]


@dataclass
class Verdict:
    scenario: str
    accepted: int = 0
    lost: int = 0
    doubled: int = 0
    unapplied: int = 0  # events some consumer never applied (within the bound)
    unpublished: int = 0  # outbox rows still waiting (within the bound)
    webhooks_missing: int = 0  # accepted orders never pushed to the partner (within the bound)
    webhook_redeliveries: int = 0
    # Answers 500: a fault of a dependency is a 503 with Retry-After, never "internal error".
    internal_errors: int = 0
    projection_equal: bool | None = None
    recovery_seconds: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return (
            self.lost == 0
            and self.doubled == 0
            and self.unapplied == 0
            and self.unpublished == 0
            and self.webhooks_missing == 0
            and self.internal_errors == 0
            and self.projection_equal is not False
        )

    def explain(self) -> str:
        return f"{self.scenario}: {self.__dict__}"


async def _connect(stack: Stack, service: str) -> asyncpg.Connection:
    return await asyncpg.connect(stack.database_url(service).replace("+asyncpg", ""))


def _db_services(stack: Stack) -> list[str]:
    return [s.name for s in stack.config.services if s.database]


async def lost_writes(stack: Stack, load: SteadyLoad) -> list[str]:
    """The accepted writes that are not there (kind:id)."""
    latest = load.latest()
    missing: list[str] = []
    queries = {
        "order": ("orders", "SELECT id::text, number AS value, 0 AS version FROM orders WHERE id = ANY($1::uuid[])"),
        "customer": (
            "customers",
            "SELECT id::text, given_name AS value, version FROM customers WHERE id = ANY($1::uuid[])",
        ),
        "ticket": ("tickets", "SELECT id::text, subject AS value, version FROM tickets WHERE id = ANY($1::uuid[])"),
    }
    for kind, (service, sql) in queries.items():
        writes = {w.id: w for (k, _), w in latest.items() if k == kind}
        if not writes:
            continue
        connection = await _connect(stack, service)
        try:
            rows = {r["id"]: r for r in await connection.fetch(sql, list(writes))}
        finally:
            await connection.close()
        for write in writes.values():
            row = rows.get(write.id)
            if (
                row is None
                or row["version"] < write.version
                or (row["version"] == write.version and row["value"] != write.value)
            ):
                missing.append(f"{kind}:{write.id}")
    return missing


async def unapplied_events(stack: Stack, since: datetime) -> tuple[dict[str, int], int]:
    """({consumer: outbox events of its types not in its inbox}, outbox rows unpublished)."""
    outbox: dict[str, str] = {}  # event id -> type
    unpublished = 0
    inboxes: dict[str, set[str]] = {}
    handled: dict[str, set[str]] = {}
    for service in _db_services(stack):
        connection = await _connect(stack, service)
        try:
            for row in await connection.fetch(
                "SELECT event_id::text, event_type FROM outbox_events WHERE created_at >= $1", since
            ):
                outbox[row["event_id"]] = row["event_type"]
            unpublished += await connection.fetchval("SELECT count(*) FROM outbox_events WHERE published_at IS NULL")
            for row in await connection.fetch("SELECT DISTINCT consumer, event_type FROM inbox_events"):
                handled.setdefault(row["consumer"], set()).add(row["event_type"])
            # A real event dead-lettered was not applied: only 'applied' counts.
            for row in await connection.fetch(
                "SELECT consumer, event_id FROM inbox_events WHERE processed_at >= $1 AND outcome = 'applied'", since
            ):
                inboxes.setdefault(row["consumer"], set()).add(row["event_id"])
        finally:
            await connection.close()
    missing = {}
    for consumer, types in handled.items():
        seen = inboxes.get(consumer, set())
        missing[consumer] = sum(1 for event_id, kind in outbox.items() if kind in types and event_id not in seen)
    return missing, unpublished


async def doubled_order_counts(stack: Stack, customer_ids: list[str]) -> list[str]:
    """Customers whose orders_count in segmentation exceeds their orders in the orders database."""
    orders = await _connect(stack, "orders")
    segmentation = await _connect(stack, "segmentation")
    try:
        truth = {
            str(r["customer_id"]): r["n"]
            for r in await orders.fetch(
                "SELECT customer_id, count(*) AS n FROM orders WHERE customer_id = ANY($1::uuid[]) GROUP BY 1",
                customer_ids,
            )
        }
        seen = {
            str(r["customer_id"]): r["orders_count"]
            for r in await segmentation.fetch(
                "SELECT customer_id, orders_count FROM customer_profiles WHERE customer_id = ANY($1::uuid[])",
                customer_ids,
            )
        }
    finally:
        await orders.close()
        await segmentation.close()
    # Fewer projected than placed is an event not applied (counted as unapplied); more is a double.
    return [f"{c}: {seen[c]} projected vs {n}" for c, n in truth.items() if seen.get(c, 0) > n]


def webhook_figures(load: SteadyLoad) -> tuple[int, int, int]:
    """(accepted orders not pushed, orders pushed under two webhook-ids, redeliveries)."""
    deliveries = load.webhook_order_numbers()
    ids_by_number: dict[str, set[str]] = {}
    for webhook_id, number in deliveries:
        ids_by_number.setdefault(number, set()).add(webhook_id)
    numbers = {w.value for w in load.accepted if w.kind == "order"}
    missing = len(numbers - set(ids_by_number))
    doubled = sum(1 for ids in ids_by_number.values() if len(ids) > 1)
    redelivered = len(deliveries) - sum(len(ids) for ids in ids_by_number.values())
    return missing, doubled, redelivered


async def judge(
    stack: Stack,
    load: SteadyLoad,
    scenario: str,
    *,
    since: datetime,
    fault_ended: float,
    bound: float = 120.0,
    rebuild: bool = True,
) -> Verdict:
    """Wait (up to ``bound`` s after the load stopped) for every effect, then judge."""
    verdict = Verdict(scenario, accepted=len(load.accepted))
    verdict.outcomes = {f"{k}:{s}": n for (k, s), n in sorted(load.outcomes.items())}
    verdict.internal_errors = sum(n for (_, status), n in load.outcomes.items() if status == "500")
    deadline = time.monotonic() + bound
    while True:
        missing, unpublished = await unapplied_events(stack, since)
        pushed_missing, _, _ = webhook_figures(load)
        settled = not any(missing.values()) and unpublished == 0 and pushed_missing == 0
        if settled or time.monotonic() > deadline:
            break
        await asyncio.sleep(1.0)
    verdict.recovery_seconds = round(time.monotonic() - fault_ended, 1)
    verdict.unapplied = sum(missing.values())
    verdict.unpublished = unpublished
    if verdict.unapplied:
        verdict.details.append(f"unapplied per consumer: { ({k: v for k, v in missing.items() if v}) }")
    lost = await lost_writes(stack, load)
    verdict.lost = len(lost)
    verdict.details += [f"lost {w}" for w in lost[:20]]
    doubled_counts = await doubled_order_counts(stack, load.customer_ids)
    verdict.webhooks_missing, doubled_pushes, verdict.webhook_redeliveries = webhook_figures(load)
    verdict.doubled = len(doubled_counts) + doubled_pushes
    verdict.details += doubled_counts[:20]
    if rebuild:
        from .rebuild import rebuild_matches

        verdict.projection_equal, note = await rebuild_matches(stack)
        verdict.details.append(note)
    verdict.figures["outcomes_total"] = sum(Counter(load.outcomes).values())
    return verdict
