"""ABC analysis of customers by net revenue (Pareto).

Customers with at least one purchase are sorted by net revenue, highest first (ties: the
lower customer id first). Walking down that list, the cumulative share of total net
revenue grows from 0 to 100 %. With cut-offs ``a`` (default 80 %) and ``b`` (95 %):

    A  the customers whose cumulative share *before* them is below ``a``
    B  those whose share before them is below ``b`` (and not A)
    C  the rest

The straddling rule: the customer whose revenue crosses a cut-off (share before < a ≤
share after) falls on the upper side — into A for the 80 % cut — because without that
customer the top class would not reach its share. So class A is the smallest prefix of
the list whose revenue reaches ``a`` of the total.

Amounts are integers (ten-thousandths of the currency unit) and cut-offs are compared
exactly in basis points, so no float rounding decides a class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ABC_CLASSES", "AbcCutoffs", "abc_classes", "abc_order", "abc_boundaries", "class_against"]

ABC_CLASSES = ("A", "B", "C")


@dataclass(frozen=True)
class AbcCutoffs:
    """Cumulative-share cut-offs as fractions, e.g. 0.80 and 0.95 (0 < a ≤ b ≤ 1)."""

    a: float = 0.80
    b: float = 0.95

    def __post_init__(self) -> None:
        if not (0 < self.a <= self.b <= 1):
            raise ValueError(f"ABC cut-offs must satisfy 0 < a ≤ b ≤ 1, got a={self.a} b={self.b}")

    @property
    def basis_points(self) -> tuple[int, int]:
        return round(self.a * 10_000), round(self.b * 10_000)


def abc_order(revenue: np.ndarray, tiebreak: np.ndarray | None = None) -> np.ndarray:
    """Indexes from the highest revenue to the lowest; ties by ascending tiebreak (default: input order)."""
    revenue = np.asarray(revenue, dtype=np.int64)
    tiebreak = np.arange(len(revenue)) if tiebreak is None else np.asarray(tiebreak)
    return np.lexsort((tiebreak, -revenue))


def abc_classes(
    revenue: np.ndarray, cutoffs: AbcCutoffs = AbcCutoffs(), tiebreak: np.ndarray | None = None
) -> np.ndarray:
    """Class codes 0 (A), 1 (B), 2 (C) for integer net revenues (negative ones count as 0)."""
    revenue = np.clip(np.asarray(revenue, dtype=np.int64), 0, None)
    n = len(revenue)
    classes = np.full(n, 2, dtype=np.int16)
    total = int(revenue.sum())
    if n == 0 or total == 0:
        return classes
    order = abc_order(revenue, tiebreak)
    before = np.cumsum(revenue[order]) - revenue[order]
    a_bp, b_bp = cutoffs.basis_points
    # share_before < a  ⇔  before · 10000 < a_bp · total   (exact integers)
    scaled = before * 10_000
    sorted_classes = np.where(scaled < a_bp * total, 0, np.where(scaled < b_bp * total, 1, 2)).astype(np.int16)
    classes[order] = sorted_classes
    return classes


def abc_boundaries(
    revenue: np.ndarray, classes: np.ndarray, tiebreak_ids: list[str] | None = None
) -> dict[str, tuple[Any, ...] | None]:
    """The sort key (−revenue, position) of the first B and the first C customer (None when there is none)."""
    revenue = np.clip(np.asarray(revenue, dtype=np.int64), 0, None)
    order = abc_order(revenue)
    result: dict[str, tuple[Any, ...] | None] = {}
    for code, name in ((1, "B"), (2, "C")):
        hits = np.nonzero(classes[order] >= code)[0]
        if len(hits) == 0:
            result[name] = None
        else:
            i = int(order[hits[0]])
            result[name] = (-int(revenue[i]), tiebreak_ids[i] if tiebreak_ids else i)
    return result


def class_against(revenue: int, tiebreak: str, boundaries: dict[str, tuple[Any, ...] | list[Any] | None]) -> str:
    """One customer's class against stored boundaries (between full recomputations)."""
    key = (-max(revenue, 0), tiebreak)
    first_b, first_c = boundaries.get("B"), boundaries.get("C")
    if first_c is not None and key >= tuple(first_c):
        return "C"
    if first_b is not None and key >= tuple(first_b):
        return "B"
    return "A"
