"""Collapse identical (x, t_x, T) rows into one weighted row.

Many customers share the same summary (every one-time buyer of the same day has
x = 0, t_x = 0 and the same T), so the likelihood is evaluated once per distinct row and
multiplied by its count. On a million customers this cuts the work of every likelihood
evaluation by one to two orders of magnitude.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["Grouped", "group_rows"]


@dataclass(frozen=True)
class Grouped:
    """Distinct rows (columns as arrays), their counts, and the row → group map."""

    columns: tuple[np.ndarray, ...]
    weights: np.ndarray
    inverse: np.ndarray

    def expand(self, per_group: np.ndarray) -> np.ndarray:
        """Per-group values back to one value per original row."""
        return np.asarray(per_group[self.inverse])


def group_rows(*columns: ArrayLike) -> Grouped:
    """Group equal rows of the given equally long 1-d float columns.

    Each column is first coded by its distinct values; the codes are combined into one
    integer key, so the grouping is a sort of one int64 array (much faster than sorting
    rows). Falls back to row-wise uniqueness if the key would overflow.
    """
    arrays = [np.asarray(c, dtype=np.float64) for c in columns]
    n = len(arrays[0]) if arrays else 0
    if n == 0:
        empty = tuple(np.empty(0) for _ in columns)
        return Grouped(empty, np.empty(0), np.empty(0, dtype=np.int64))
    coded = [np.unique(a, return_inverse=True) for a in arrays]
    sizes = [len(values) for values, _ in coded]
    if float(np.prod([float(s) for s in sizes])) < 2**62:
        key = np.zeros(n, dtype=np.int64)
        for (_, codes), size in zip(coded, sizes, strict=True):
            key = key * size + codes.reshape(-1)
        _, first, inverse, counts = np.unique(key, return_index=True, return_inverse=True, return_counts=True)
        return Grouped(tuple(a[first] for a in arrays), counts.astype(np.float64), inverse.reshape(-1))
    stacked = np.column_stack(arrays)
    unique, inverse, counts = np.unique(stacked, axis=0, return_inverse=True, return_counts=True)
    return Grouped(
        tuple(unique[:, i].copy() for i in range(unique.shape[1])),
        counts.astype(np.float64),
        inverse.reshape(-1),
    )
