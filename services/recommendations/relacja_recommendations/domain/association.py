"""Association figures of product pairs, from counts of baskets.

For a window of ``N`` baskets, ``n(A)`` baskets holding product A, ``n(B)`` holding B and
``n(AB)`` holding both (a basket counts a product once, whatever the quantity):

    support(A,B)        = n(AB) / N                     share of baskets with both
    confidence(A → B)   = n(AB) / n(A)                  of baskets with A, the share also with B
    confidence(B → A)   = n(AB) / n(B)
    lift(A,B)           = n(AB) · N / (n(A) · n(B))     = confidence(A → B) / support(B);
                                                           1: independent, > 1: bought together

The figures are ratios of integer counts, computed once from the counts (here in Python,
in app/statistics.py in SQL with the same expressions), so they equal an independent
association-rule computation up to the last bit of a float (mlxtend divides rounded
supports: ``confidence = support(AB) / support(A)``; the tests allow 1e-12 relative).

``co_occurrence(baskets, n_products)`` counts ``n(A)`` and ``n(AB)`` for every product and
pair set-based: the baskets × products incidence matrix ``B`` (sparse, 0/1) gives
``BᵀB``, whose diagonal holds ``n(A)`` and whose off-diagonal entries ``n(AB)``. It serves
the evaluation, which counts a training window in memory; the live counts are SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

__all__ = ["CoOccurrence", "PairFigures", "co_occurrence", "pair_figures"]


@dataclass(frozen=True)
class PairFigures:
    count: int
    support: float
    confidence: float  # A → B
    reverse_confidence: float  # B → A
    lift: float


def pair_figures(baskets: int, count_a: int, count_b: int, count_ab: int) -> PairFigures:
    """The figures of the pair (A, B); raises ValueError for counts that cannot be."""
    if not (0 <= count_ab <= min(count_a, count_b) and max(count_a, count_b) <= baskets) or count_ab == 0:
        raise ValueError(f"impossible counts: N={baskets}, n(A)={count_a}, n(B)={count_b}, n(AB)={count_ab}")
    return PairFigures(
        count=count_ab,
        support=count_ab / baskets,
        confidence=count_ab / count_a,
        reverse_confidence=count_ab / count_b,
        lift=(count_ab * baskets) / (count_a * count_b),
    )


@dataclass(frozen=True)
class CoOccurrence:
    """Counts over ``baskets`` baskets: ``items[p]`` = n(p), ``pairs`` = n(p, q) (sparse, symmetric, zero diagonal)."""

    baskets: int
    items: npt.NDArray[np.int64]
    pairs: sparse.csr_array

    def figures(self, a: int, b: int) -> PairFigures:
        return pair_figures(self.baskets, int(self.items[a]), int(self.items[b]), int(self.pairs[a, b]))


def co_occurrence(
    basket_index: npt.NDArray[np.int64], product_index: npt.NDArray[np.int64], n_products: int
) -> CoOccurrence:
    """Counts from basket items given as two parallel arrays (basket number, product number).

    Duplicate (basket, product) items count once: a basket holds a product or not."""
    if basket_index.shape != product_index.shape:
        raise ValueError("basket_index and product_index must have the same length")
    if basket_index.size == 0:
        return CoOccurrence(0, np.zeros(n_products, dtype=np.int64), sparse.csr_array((n_products, n_products)))
    _, baskets = np.unique(basket_index, return_inverse=True)
    n_baskets = int(baskets.max()) + 1
    incidence = sparse.csr_array(
        (np.ones(baskets.size, dtype=np.int64), (baskets, product_index)), shape=(n_baskets, n_products)
    )
    incidence.sum_duplicates()
    incidence.data[:] = 1  # a product twice in one basket is still one basket
    product = (incidence.T @ incidence).tocsr()
    items = np.asarray(product.diagonal(), dtype=np.int64)
    product.setdiag(0)
    product.eliminate_zeros()
    return CoOccurrence(n_baskets, items, product)
