"""The one policy of the service: quiet hours and the frequency caps per channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.decision import Cap
from ..tables import policy
from .errors import InvalidField
from .schemas import CapIn, PolicyIn, PolicyPublic, QuietHoursIn

__all__ = ["Policy", "get_policy", "load_policy", "replace_policy"]


@dataclass(frozen=True)
class Policy:
    quiet_start: time | None
    quiet_end: time | None
    caps: dict[str, Cap]
    version: int


def _public(row: Any) -> PolicyPublic:
    quiet = (
        QuietHoursIn(start=row.quiet_hours_start.isoformat(), end=row.quiet_hours_end.isoformat())
        if row.quiet_hours_start is not None and row.quiet_hours_end is not None
        else None
    )
    return PolicyPublic(
        quiet_hours=quiet,
        caps=[CapIn.model_validate(c) for c in row.caps],
        version=row.version,
        updated_at=row.updated_at,
    )


async def get_policy(session: AsyncSession) -> PolicyPublic:
    return _public((await session.execute(select(policy).where(policy.c.id == 1))).one())


async def load_policy(session: AsyncSession) -> Policy:
    row = (await session.execute(select(policy).where(policy.c.id == 1))).one()
    return Policy(
        quiet_start=row.quiet_hours_start,
        quiet_end=row.quiet_hours_end,
        caps={c["channel"]: Cap(c["max_messages"], c["window_days"]) for c in row.caps},
        version=row.version,
    )


async def replace_policy(session: AsyncSession, body: PolicyIn, version: int) -> PolicyPublic:
    channels = [c.channel for c in body.caps]
    if len(set(channels)) != len(channels):
        raise InvalidField("caps", "At most one cap per channel.")
    row = (
        await session.execute(
            policy.update()
            .where(policy.c.id == 1, policy.c.version == version)
            .values(
                quiet_hours_start=body.quiet_hours.times()[0] if body.quiet_hours else None,
                quiet_hours_end=body.quiet_hours.times()[1] if body.quiet_hours else None,
                caps=[c.model_dump() for c in body.caps],
                version=policy.c.version + 1,
                updated_at=datetime.now(UTC),
            )
            .returning(*policy.c)
        )
    ).one()
    return _public(row)
