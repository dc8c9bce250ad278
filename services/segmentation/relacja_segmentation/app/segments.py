"""Rule-based segments: the use cases behind ``/segments``.

    compile_segment_rule  raw JSON rule → CompiledRule (raises domain RuleError, paths from "rule")
    preview               how many customers a rule selects now, and the first few ids
    create_segment        save a segment and materialise its members (one added event each)
    replace_segment       new name/description/rule at a checked version; members follow
    delete_segment        every member leaves (one removed event each), then the segment goes
    get_segment           one segment with its member count
    list_segments         segments by name after a name (keyset)
    require_segment       SegmentNotFound unless it exists
    member_page           members by customer id after an id (keyset, primary key only)
    member_batches        every member with its scores, in keyset batches (the CSV export)

Writes run in the caller's open transaction, so an ``Idempotency-Key`` claim made by the
caller commits or rolls back with them. Errors: :class:`SegmentNotFound`,
:class:`DuplicateSegmentName` and the domain's ``RuleError``; the version check is the
caller's (``check_version`` raises whatever the caller's protocol answers).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_servicekit import Database

from ..domain.rules import parse_rule
from .membership import refresh_segment
from .rule_sql import CompiledRule, compile_rule

__all__ = [
    "SegmentCommand",
    "SegmentView",
    "SegmentNotFound",
    "DuplicateSegmentName",
    "PREVIEW_SAMPLE",
    "compile_segment_rule",
    "preview",
    "create_segment",
    "replace_segment",
    "delete_segment",
    "get_segment",
    "list_segments",
    "require_segment",
    "member_page",
    "member_batches",
]

PREVIEW_SAMPLE = 10

# A rule that matches nobody: deleting a segment lets every member leave, set-based, with its event.
_NOBODY = CompiledRule(sql="false", params={})


@dataclass(frozen=True)
class SegmentCommand:
    name: str
    description: str | None
    rule: Any  # the JSON rule as the client sent it (validated by compile_segment_rule)


@dataclass(frozen=True)
class SegmentView:
    id: uuid.UUID
    name: str
    description: str | None
    rule: Any
    version: int
    members: int
    created_at: datetime
    updated_at: datetime


class SegmentNotFound(LookupError):
    def __init__(self, segment_id: uuid.UUID) -> None:
        super().__init__(f"No segment with id {segment_id}.")
        self.segment_id = segment_id


class DuplicateSegmentName(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"A segment named {name!r} exists already.")
        self.name = name


def compile_segment_rule(raw: Any) -> CompiledRule:
    """Validate and compile a rule; ``RuleError`` paths start at ``rule``."""
    return compile_rule(parse_rule(raw, path="rule"))


async def preview(session: AsyncSession, raw_rule: Any) -> tuple[int, list[uuid.UUID]]:
    rule = compile_segment_rule(raw_rule)
    count = await session.scalar(text(f"SELECT count(*) FROM customer_profiles WHERE {rule.sql}"), rule.params)
    sample = await session.scalars(
        text(f"SELECT customer_id FROM customer_profiles WHERE {rule.sql} ORDER BY customer_id LIMIT {PREVIEW_SAMPLE}"),
        rule.params,
    )
    return int(count or 0), list(sample)


async def get_segment(session: AsyncSession, segment_id: uuid.UUID) -> SegmentView:
    row = (
        await session.execute(
            text(
                "SELECT s.id, s.name, s.description, s.rule, s.version, s.created_at, s.updated_at, "
                "(SELECT count(*) FROM segment_members m WHERE m.segment_id = s.id) AS members FROM segments s WHERE s.id = :id"
            ),
            {"id": segment_id},
        )
    ).first()
    if row is None:
        raise SegmentNotFound(segment_id)
    return SegmentView(**row._mapping)


async def _name_taken(session: AsyncSession, name: str, other_than: uuid.UUID | None = None) -> bool:
    found = await session.scalar(
        text("SELECT 1 FROM segments WHERE name = :n AND id IS DISTINCT FROM :id"), {"n": name, "id": other_than}
    )
    return bool(found)


async def create_segment(session: AsyncSession, command: SegmentCommand) -> SegmentView:
    rule = compile_segment_rule(command.rule)
    segment_id = uuid.uuid4()
    if await _name_taken(session, command.name):
        raise DuplicateSegmentName(command.name)
    try:
        await session.execute(
            text(
                "INSERT INTO segments (id, name, description, rule) VALUES (:id, :name, :description, CAST(:rule AS jsonb))"
            ),
            {
                "id": segment_id,
                "name": command.name,
                "description": command.description,
                "rule": json.dumps(command.rule),
            },
        )
    except IntegrityError:  # the same name saved by a concurrent request since the check
        raise DuplicateSegmentName(command.name) from None
    await refresh_segment(session, segment_id, command.name, rule, "segment_saved")
    return await get_segment(session, segment_id)


async def replace_segment(
    session: AsyncSession, segment_id: uuid.UUID, command: SegmentCommand, check_version: Callable[[int], None]
) -> SegmentView:
    rule = compile_segment_rule(command.rule)
    version = await session.scalar(text("SELECT version FROM segments WHERE id = :id FOR UPDATE"), {"id": segment_id})
    if version is None:
        raise SegmentNotFound(segment_id)
    check_version(version)
    if await _name_taken(session, command.name, other_than=segment_id):
        raise DuplicateSegmentName(command.name)
    try:
        await session.execute(
            text(
                "UPDATE segments SET name = :name, description = :description, rule = CAST(:rule AS jsonb), "
                "version = version + 1, updated_at = now() WHERE id = :id"
            ),
            {
                "id": segment_id,
                "name": command.name,
                "description": command.description,
                "rule": json.dumps(command.rule),
            },
        )
    except IntegrityError:
        raise DuplicateSegmentName(command.name) from None
    await refresh_segment(session, segment_id, command.name, rule, "segment_saved")
    return await get_segment(session, segment_id)


async def delete_segment(session: AsyncSession, segment_id: uuid.UUID, check_version: Callable[[int], None]) -> None:
    current = (
        await session.execute(text("SELECT name, version FROM segments WHERE id = :id FOR UPDATE"), {"id": segment_id})
    ).first()
    if current is None:
        raise SegmentNotFound(segment_id)
    check_version(current.version)
    await refresh_segment(session, segment_id, current.name, _NOBODY, "segment_saved")
    await session.execute(text("DELETE FROM segments WHERE id = :id"), {"id": segment_id})


async def list_segments(session: AsyncSession, after_name: str | None, limit: int) -> list[SegmentView]:
    """Up to ``limit`` segments by name after ``after_name`` (ask for one more to know whether a next page exists)."""
    ids = await session.scalars(
        text(
            "SELECT id FROM segments WHERE (CAST(:after AS text) IS NULL OR name > :after) ORDER BY name LIMIT :limit"
        ),
        {"after": after_name, "limit": limit},
    )
    return [await get_segment(session, segment_id) for segment_id in ids.all()]


# A page reads only segment_members, along its primary key (segment_id, customer_id): a
# join to the profiles would cost one random heap page per member on a cold cache. The
# scores of a member are one GET /customers/{id} away, and the CSV export carries them.
_MEMBERS_FIRST = text(
    "SELECT customer_id, added_at FROM segment_members WHERE segment_id = :segment_id ORDER BY customer_id LIMIT :limit"
)
# Two statements rather than "(:after IS NULL OR ...)", which would hide the index range from the planner.
_MEMBERS_AFTER = text(
    "SELECT customer_id, added_at FROM segment_members WHERE segment_id = :segment_id AND customer_id > :after "
    "ORDER BY customer_id LIMIT :limit"
)
_MEMBERS_WITH_SCORES = text(
    "SELECT m.customer_id, m.added_at, p.rfm_segment, p.abc_class, p.quadrant FROM "
    "(SELECT customer_id, added_at FROM segment_members WHERE segment_id = :segment_id "
    " AND (customer_id > :after) ORDER BY customer_id LIMIT :limit) AS m "
    "LEFT JOIN customer_profiles p ON p.customer_id = m.customer_id ORDER BY m.customer_id"
)


async def require_segment(session: AsyncSession, segment_id: uuid.UUID) -> None:
    """Raise SegmentNotFound unless the segment exists (also before a CSV stream starts)."""
    if not await session.scalar(text("SELECT 1 FROM segments WHERE id = :id"), {"id": segment_id}):
        raise SegmentNotFound(segment_id)


async def member_page(
    session: AsyncSession, segment_id: uuid.UUID, after: uuid.UUID | None, limit: int
) -> Sequence[Row[Any]]:
    """(customer_id, added_at) of up to ``limit`` members after ``after``, by customer id."""
    await require_segment(session, segment_id)
    if after is None:
        return (await session.execute(_MEMBERS_FIRST, {"segment_id": segment_id, "limit": limit})).all()
    return (await session.execute(_MEMBERS_AFTER, {"segment_id": segment_id, "after": after, "limit": limit})).all()


async def member_batches(
    database: Database, segment_id: uuid.UUID, batch: int = 5000
) -> AsyncIterator[Sequence[Row[Any]]]:
    """Every member with its RFM segment, ABC class and quadrant, ``batch`` at a time.

    Each batch is its own short query on its own session (constant memory, no transaction
    held open while a slow client reads the stream).
    """
    after = uuid.UUID(int=0)  # below every id
    while True:
        async with database.sessions() as session:
            rows = (
                await session.execute(_MEMBERS_WITH_SCORES, {"segment_id": segment_id, "after": after, "limit": batch})
            ).all()
        if rows:
            yield rows
        if len(rows) < batch:
            return
        after = rows[-1].customer_id
