"""Lead scoring's frequency table (``scoring_counts``) and a deal's score
(``domain/scoring.py`` has the rule and the arithmetic).

    count_closed(session, deal)      +1 won or lost for the deal's team, per field value and in
                                     total; called by win / lose in their transaction
    score(session, caller, id)       the open deal's win probability from its team's table
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.access import Caller
from ..domain.scoring import FIELDS, Counts, FieldEvidence, win_probability
from ..tables import opportunities, scoring_counts
from .common import not_found, visible

__all__ = ["DealScore", "count_closed", "score"]

_TOTAL = ("total", "")


def _values(deal: Any) -> dict[str, str]:
    return {field: str(getattr(deal, field)) for field in FIELDS if getattr(deal, field) is not None}


async def count_closed(session: AsyncSession, deal: Any, *, won: bool) -> None:
    team = deal.team or ""
    column = "won" if won else "lost"
    rows = [{"team": team, "field": f, "value": v, column: 1} for f, v in [*_values(deal).items(), _TOTAL]]
    statement = pg_insert(scoring_counts).values(rows)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["team", "field", "value"],
            set_={column: getattr(scoring_counts.c, column) + 1},
        )
    )


@dataclass(frozen=True)
class DealScore:
    opportunity_id: uuid.UUID
    team: str | None
    probability: Decimal | None
    evidence: list[FieldEvidence]


async def score(session: AsyncSession, caller: Caller, opportunity_id: uuid.UUID) -> DealScore:
    c = opportunities.c
    deal = (
        await session.execute(select(opportunities).where(c.id == opportunity_id, visible(caller, c.owner_id, c.team)))
    ).first()
    if deal is None:
        raise not_found("opportunity", opportunity_id)
    rows = (await session.execute(select(scoring_counts).where(scoring_counts.c.team == (deal.team or "")))).all()
    table: dict[str, dict[str, Counts]] = {}
    totals = Counts(0, 0)
    for row in rows:
        if (row.field, row.value) == _TOTAL:
            totals = Counts(row.won, row.lost)
        else:
            table.setdefault(row.field, {})[row.value] = Counts(row.won, row.lost)
    probability, evidence = win_probability(totals, table, _values(deal))
    return DealScore(deal.id, deal.team, probability, evidence)
