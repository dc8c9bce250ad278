"""RFM scoring: recency, frequency and monetary scores 1–5 by quintile of rank (5 = best).

Why ranks. Most customers buy once, so "frequency = 1" may hold for 60 % of them; cutting
the *values* at their quintiles would put all of those into one group and leave other
groups empty. We rank customers instead — every customer gets a distinct position, so the
five groups always hold n/5 customers each (±1) — and cut the *ranks*.

The tie rule (exact, so anyone can reproduce a score). Customers are sorted ascending by
a key tuple; the position ``p`` (0-based) in that order gives ``score = 1 + ⌊5·p / n⌋``.

    R  (last purchase day, purchases, net revenue, customer id)
    F  (purchases, last purchase day, net revenue, customer id)
    M  (net revenue, purchases, last purchase day, customer id)

so a tie on the dimension itself is broken by the other two dimensions (who bought more
recently / more often / for more ranks higher), and only a tie on all three by the
customer id (as a string, the lower id ranks lower). ``purchases`` counts distinct purchase
days; the last purchase day is a calendar day (UTC), so recency has day resolution and
equals ``reference date − last purchase day``.

Segment names come from the (R, F) pair — the widely used RFM grid; M is reported but
does not change the name:

    F →      1        2        3        4        5
    R=5    new      potential potential champions champions
    R=4    promising potential potential loyal   loyal
    R=3    about_to_sleep ab.  need_attention loyal loyal
    R=2    hibernating hib.    at_risk  at_risk  cannot_lose_them
    R=1    lost     lost     at_risk  at_risk  cannot_lose_them
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "RFM_SEGMENTS",
    "SEGMENT_LABELS",
    "RfmScores",
    "rank_quintiles",
    "rfm_scores",
    "segment_codes",
    "segment_names",
    "segment_of",
    "quintile_boundaries",
    "score_against",
]

# Names in a fixed order (their index is the segment code used in vectorised code).
RFM_SEGMENTS: tuple[str, ...] = (
    "champions",
    "loyal",
    "potential_loyalist",
    "new",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cannot_lose_them",
    "hibernating",
    "lost",
)

SEGMENT_LABELS: dict[str, str] = {
    "champions": "Champions",
    "loyal": "Loyal",
    "potential_loyalist": "Potential loyalist",
    "new": "New",
    "promising": "Promising",
    "need_attention": "Need attention",
    "about_to_sleep": "About to sleep",
    "at_risk": "At risk",
    "cannot_lose_them": "Cannot lose them",
    "hibernating": "Hibernating",
    "lost": "Lost",
}

# _GRID[r-1][f-1] is the segment name for scores (r, f).
_GRID: tuple[tuple[str, ...], ...] = (
    ("lost", "lost", "at_risk", "at_risk", "cannot_lose_them"),  # R=1
    ("hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose_them"),  # R=2
    ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),  # R=3
    ("promising", "potential_loyalist", "potential_loyalist", "loyal", "loyal"),  # R=4
    ("new", "potential_loyalist", "potential_loyalist", "champions", "champions"),  # R=5
)
_CODE_GRID = np.array([[RFM_SEGMENTS.index(name) for name in row] for row in _GRID], dtype=np.int16)
_NAMES = np.array(RFM_SEGMENTS, dtype=object)


def segment_of(r: int, f: int) -> str:
    """The segment name of one (R, F) pair."""
    if not (1 <= r <= 5 and 1 <= f <= 5):
        raise ValueError(f"scores must be 1–5, got R={r} F={f}")
    return _GRID[r - 1][f - 1]


def segment_codes(r: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Segment codes (indexes into RFM_SEGMENTS) for arrays of R and F scores."""
    return _CODE_GRID[np.asarray(r, dtype=np.intp) - 1, np.asarray(f, dtype=np.intp) - 1]


def segment_names(r: np.ndarray, f: np.ndarray) -> np.ndarray:
    names: np.ndarray = _NAMES[segment_codes(r, f)]
    return names


def _order(keys: Sequence[np.ndarray]) -> np.ndarray:
    """Indexes sorting ascending by keys[0], then keys[1], ...; np.lexsort takes the last key as primary."""
    return np.lexsort(tuple(reversed([np.asarray(k) for k in keys])))


def rank_quintiles(keys: Sequence[np.ndarray]) -> np.ndarray:
    """Scores 1–5 by quintile of the position in ascending order of the key tuple (see module doc)."""
    n = len(keys[0])
    scores = np.empty(n, dtype=np.int16)
    if n == 0:
        return scores
    positions = np.arange(n, dtype=np.int64)
    scores[_order(keys)] = (1 + (5 * positions) // n).astype(np.int16)
    return scores


@dataclass(frozen=True)
class RfmScores:
    r: np.ndarray
    f: np.ndarray
    m: np.ndarray

    @property
    def segment_codes(self) -> np.ndarray:
        return segment_codes(self.r, self.f)


def _key_tuples(
    last_day: np.ndarray, purchases: np.ndarray, monetary: np.ndarray, tiebreak: np.ndarray
) -> dict[str, list[np.ndarray]]:
    return {
        "r": [last_day, purchases, monetary, tiebreak],
        "f": [purchases, last_day, monetary, tiebreak],
        "m": [monetary, purchases, last_day, tiebreak],
    }


def rfm_scores(
    last_day: np.ndarray, purchases: np.ndarray, monetary: np.ndarray, tiebreak: np.ndarray | None = None
) -> RfmScores:
    """R, F and M scores of n customers.

    ``last_day``: last purchase day as an integer (days since any epoch); ``purchases``:
    distinct purchase days; ``monetary``: net revenue (any exact numeric unit, e.g.
    ten-thousandths); ``tiebreak``: the final tie-break, ascending (the customer ids as
    strings; default: the input order, for callers that pass customers sorted by id).
    """
    n = len(last_day)
    tiebreak = np.arange(n) if tiebreak is None else np.asarray(tiebreak)
    keys = _key_tuples(np.asarray(last_day), np.asarray(purchases), np.asarray(monetary), tiebreak)
    return RfmScores(r=rank_quintiles(keys["r"]), f=rank_quintiles(keys["f"]), m=rank_quintiles(keys["m"]))


def quintile_boundaries(keys: Sequence[np.ndarray]) -> list[tuple[Any, ...]]:
    """The key tuples of the first customer of scores 2, 3, 4 and 5 (fewer when n < 5).

    A full recomputation stores them, so that one customer changed by an event can be
    scored between recomputations without ranking everybody again (see score_against).
    """
    n = len(keys[0])
    order = _order(keys)
    boundaries = []
    for score in range(2, 6):
        first = -(-(score - 1) * n // 5)  # smallest p with 1 + ⌊5p/n⌋ >= score
        if first < n:
            i = order[first]
            boundaries.append(tuple(_plain(k[i]) for k in keys))
    return boundaries


def score_against(key: tuple[Any, ...], boundaries: Sequence[Sequence[Any]]) -> int:
    """The score of one key tuple against stored boundaries: 1 + the number of boundaries ≤ key."""
    return 1 + sum(1 for boundary in boundaries if tuple(boundary) <= key)


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def boundaries_of(
    last_day: np.ndarray, purchases: np.ndarray, monetary: np.ndarray, tiebreak: np.ndarray
) -> dict[str, list[tuple[Any, ...]]]:
    """Boundaries of all three dimensions (see quintile_boundaries)."""
    keys = _key_tuples(np.asarray(last_day), np.asarray(purchases), np.asarray(monetary), np.asarray(tiebreak))
    return {dimension: quintile_boundaries(k) for dimension, k in keys.items()}


def key_of(dimension: str, last_day: int, purchases: int, monetary: int, tiebreak: str) -> tuple[Any, ...]:
    """One customer's key tuple for ``dimension`` ("r", "f" or "m"), in the order of the module doc."""
    return {
        "r": (last_day, purchases, monetary, tiebreak),
        "f": (purchases, last_day, monetary, tiebreak),
        "m": (monetary, purchases, last_day, tiebreak),
    }[dimension]
