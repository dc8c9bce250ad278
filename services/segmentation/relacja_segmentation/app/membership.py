"""Materialised membership of rule-based segments, kept current.

Two ways, same rule SQL (rule_sql.py):

* ``refresh_customers`` — after events changed some customers (one, or a consumer
  batch's): per segment, one ``INSERT ... SELECT`` adds the joiners among them and one
  ``DELETE`` removes the leavers, each writing its events in the same statement.
* ``refresh_segment`` — set-based, for a saved segment or a full recomputation: one
  ``INSERT ... SELECT`` adds the new members and one ``DELETE`` removes the leavers, each
  writing its events into the outbox in the same statement (../events.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, text
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import SegmentMemberRemovedV1

from ..domain.rules import parse_rule
from ..events import bulk_params, emit, membership_events_sql
from .rule_sql import CompiledRule, compile_rule

__all__ = [
    "SegmentRule",
    "load_segments",
    "refresh_customer",
    "refresh_customers",
    "refresh_segment",
    "remove_customer",
    "compiled",
]

# Compiled rules by (segment id, version, bind prefix): saved rules never change in place.
_cache: dict[tuple[uuid.UUID, int, str], CompiledRule] = {}


@dataclass(frozen=True)
class SegmentRule:
    id: uuid.UUID
    name: str
    version: int
    rule: Any  # the saved JSON

    def compiled(self, prefix: str = "r") -> CompiledRule:
        return compiled(self.id, self.version, self.rule, prefix)


def compiled(segment_id: uuid.UUID, version: int, rule: Any, prefix: str = "r") -> CompiledRule:
    """The compiled rule of a saved segment version (validated when it was saved)."""
    key = (segment_id, version, prefix)
    found = _cache.get(key)
    if found is None:
        if len(_cache) > 10_000:
            _cache.clear()
        found = _cache[key] = compile_rule(parse_rule(rule, saved=True), prefix=prefix)
    return found


async def load_segments(session: AsyncSession) -> list[SegmentRule]:
    rows = (await session.execute(text("SELECT id, name, version, rule FROM segments ORDER BY id"))).all()
    return [SegmentRule(row.id, row.name, row.version, row.rule) for row in rows]


async def refresh_customer(session: AsyncSession, customer_id: uuid.UUID, trigger: str = "event") -> None:
    await refresh_customers(session, [customer_id], trigger)


async def refresh_customers(session: AsyncSession, customer_ids: Sequence[uuid.UUID], trigger: str = "event") -> None:
    """Bring the membership of these customers in line with every segment's rule.

    Two statements per segment for all of them (joiners, leavers), each writing its
    events in the same statement. A batch yields the net change: a customer that joined
    and left within one batch produces no event.
    """
    segments = await load_segments(session)
    if not segments or not customer_ids:
        return
    ids = sorted(set(customer_ids))
    for segment in segments:
        rule = segment.compiled()
        common = {"segment_id": segment.id, "segment_name": segment.name, "ids": ids, **bulk_params(), **rule.params}
        await session.execute(
            text(
                "WITH added AS (INSERT INTO segment_members (segment_id, customer_id) "
                "SELECT CAST(:segment_id AS uuid), d.customer_id FROM ("
                "SELECT customer_id FROM customer_profiles "
                f"WHERE customer_id = ANY(CAST(:ids AS uuid[])) AND ({rule.sql}) "
                "EXCEPT SELECT customer_id FROM segment_members "
                "WHERE segment_id = CAST(:segment_id AS uuid) AND customer_id = ANY(CAST(:ids AS uuid[]))) AS d "
                "ORDER BY d.customer_id ON CONFLICT DO NOTHING RETURNING customer_id) "
                + membership_events_sql("SELECT customer_id FROM added", added=True, trigger=trigger)
            ),
            common,
        )
        await session.execute(
            text(
                "WITH removed AS (DELETE FROM segment_members AS m USING ("
                "SELECT customer_id FROM segment_members "
                "WHERE segment_id = CAST(:segment_id AS uuid) AND customer_id = ANY(CAST(:ids AS uuid[])) "
                "EXCEPT SELECT customer_id FROM customer_profiles "
                f"WHERE customer_id = ANY(CAST(:ids AS uuid[])) AND ({rule.sql})) AS d "
                "WHERE m.segment_id = CAST(:segment_id AS uuid) AND m.customer_id = d.customer_id "
                "RETURNING m.customer_id) "
                + membership_events_sql("SELECT customer_id FROM removed", added=False, trigger=trigger)
            ),
            common,
        )


async def remove_customer(
    session: AsyncSession,
    customer_id: uuid.UUID,
    segment_id: uuid.UUID,
    segment_name: str,
    trigger: str,
    now: datetime | None = None,
) -> None:
    await session.execute(
        text("DELETE FROM segment_members WHERE segment_id = :s AND customer_id = :c"),
        {"s": segment_id, "c": customer_id},
    )
    await emit(
        session,
        SegmentMemberRemovedV1(
            customer_id=customer_id,
            segment_id=segment_id,
            segment_name=segment_name,
            trigger=trigger,
            occurred_at=now or datetime.now(UTC),
        ),
    )


async def refresh_segment(
    session: AsyncSession, segment_id: uuid.UUID, segment_name: str, rule: CompiledRule, trigger: str
) -> tuple[int, int]:
    """Bring one segment's membership in line with its rule; returns (added, removed)."""
    # Set-based statements: statistics of segment_members are often stale here (rows written
    # earlier in this very transaction, e.g. a bulk load or the first scoring), and the
    # planner then believes the table is empty and picks nested loops that rescan it per
    # row — minutes instead of seconds. Hash and merge joins are right for every size.
    await session.execute(text("SET LOCAL enable_nestloop = off"))
    common = {"segment_id": segment_id, "segment_name": segment_name, **bulk_params()}
    # EXCEPT plans as a hash set operation whatever the (often stale, mid-transaction)
    # statistics of segment_members say; a NOT EXISTS anti-join was planned as a nested loop.
    added_cte = (
        "WITH added AS (INSERT INTO segment_members (segment_id, customer_id) "
        "SELECT CAST(:segment_id AS uuid), d.customer_id FROM ("
        f"SELECT customer_id FROM customer_profiles WHERE {rule.sql} "
        "EXCEPT SELECT customer_id FROM segment_members WHERE segment_id = CAST(:segment_id AS uuid)) AS d "
        # In id order, so that a members page (id order) finds its rows on few heap pages.
        "ORDER BY d.customer_id "
        "ON CONFLICT DO NOTHING RETURNING customer_id) "
    )
    added = await session.execute(
        text(added_cte + membership_events_sql("SELECT customer_id FROM added", added=True, trigger=trigger)),
        {**common, **rule.params},
    )
    removed_cte = (
        "WITH removed AS (DELETE FROM segment_members AS m USING ("
        "SELECT customer_id FROM segment_members WHERE segment_id = CAST(:segment_id AS uuid) "
        f"EXCEPT SELECT customer_id FROM customer_profiles WHERE {rule.sql}) AS d "
        "WHERE m.segment_id = CAST(:segment_id AS uuid) AND m.customer_id = d.customer_id RETURNING m.customer_id) "
    )
    removed = await session.execute(
        text(removed_cte + membership_events_sql("SELECT customer_id FROM removed", added=False, trigger=trigger)),
        {**common, **rule.params},
    )
    # A DML statement's result is a CursorResult, which has the row count.
    return cast(CursorResult[Any], added).rowcount or 0, cast(CursorResult[Any], removed).rowcount or 0
