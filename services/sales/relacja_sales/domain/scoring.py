"""Lead scoring: a naive Bayes win probability from a team's won and lost deals, as Odoo's
predictive lead scoring does it.

The frequency table counts, per team and per (field, value) of a closed deal, how many
deals with that value were won and lost (``FIELDS``: source, pipeline, currency), plus the
team's totals. For an open deal of the team:

    prior      P(won) = W / (W + L)                     W, L: the team's won and lost deals
    per field  P(v | won) = (won_v + 0.1) / Σ_u (won_u + 0.1)     over the field's values u
               P(v | lost) = (lost_v + 0.1) / Σ_u (lost_u + 0.1)  (+0.1: no value is impossible)
    skipped    a value seen in fewer than 50 closed deals (won_v + lost_v < 50): too little
               evidence; a value never seen is skipped the same way
    score      A / (A + B) with A = P(won) Π P(v | won), B = P(lost) Π P(v | lost),
               in percent, clamped to 1–99.99, rounded to 0.01 (ROUND_HALF_UP)

No closed deal in the team: no score (None). The table changes when a deal is won or lost
(app/opportunities.py), in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["FIELDS", "MIN_OBSERVATIONS", "SMOOTHING", "Counts", "FieldEvidence", "win_probability"]

FIELDS = ("source", "pipeline_id", "currency")
MIN_OBSERVATIONS = 50
SMOOTHING = Decimal("0.1")
_LOW, _HIGH = Decimal("1"), Decimal("99.99")


@dataclass(frozen=True)
class Counts:
    won: int
    lost: int


@dataclass(frozen=True)
class FieldEvidence:
    field: str
    value: str
    won: int
    lost: int
    used: bool


def win_probability(
    totals: Counts, table: Mapping[str, Mapping[str, Counts]], deal: Mapping[str, str]
) -> tuple[Decimal | None, list[FieldEvidence]]:
    """The score of ``deal`` (field → value) from the team's ``table`` (field → value → counts)."""
    evidence: list[FieldEvidence] = []
    if totals.won + totals.lost == 0:
        return None, evidence
    a = Decimal(totals.won) / Decimal(totals.won + totals.lost)
    b = 1 - a
    for field in FIELDS:
        value = deal.get(field)
        values = table.get(field, {})
        seen = values.get(value) if value is not None else None
        used = seen is not None and seen.won + seen.lost >= MIN_OBSERVATIONS
        if value is not None:
            evidence.append(FieldEvidence(field, value, seen.won if seen else 0, seen.lost if seen else 0, used))
        if not used or seen is None:
            continue
        won_total = sum((Decimal(c.won) + SMOOTHING for c in values.values()), Decimal(0))
        lost_total = sum((Decimal(c.lost) + SMOOTHING for c in values.values()), Decimal(0))
        a *= (seen.won + SMOOTHING) / won_total
        b *= (seen.lost + SMOOTHING) / lost_total
    if a + b == 0:
        return None, evidence
    score = a / (a + b) * 100
    return min(max(score, _LOW), _HIGH).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), evidence
