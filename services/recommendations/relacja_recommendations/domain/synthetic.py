"""A purchase history with a known structure, for the evaluation and the benchmarks.

The structure a recommender should find, and a popularity baseline cannot:

- products come in *families* of ``family_size`` (a family is one category: a camera,
  its lenses, bag and cards), priced in a ladder inside the family (for up-sell);
- families differ in popularity (Zipf, exponent ``skew``), and so do products inside a
  family, so "most bought overall" is a real competitor;
- every customer has one or two favourite families; a basket comes from a favourite
  family with probability ``loyalty`` (else from a family drawn by popularity) and holds
  2–4 of its products (plus, one basket in five, one product drawn by popularity).

So what a customer buys next mostly belongs to the families of what they bought before,
which the pair statistics learn; the baseline only knows what is popular. Everything is
drawn from ``numpy.random.default_rng(seed)``: the same arguments give the same history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SyntheticHistory", "SyntheticProduct", "synthetic_history"]


@dataclass(frozen=True)
class SyntheticProduct:
    index: int
    family: int
    list_price: int  # whole currency units
    unit_cost: int


@dataclass(frozen=True)
class SyntheticHistory:
    products: list[SyntheticProduct]
    # One entry per order: (customer number, day number from the start, product numbers).
    orders: list[tuple[int, int, list[int]]]


def synthetic_history(
    *,
    customers: int = 2_000,
    families: int = 60,
    family_size: int = 6,
    days: int = 720,
    orders_per_customer: tuple[int, int] = (3, 10),
    loyalty: float = 0.8,
    skew: float = 1.1,
    seed: int = 20261205,
) -> SyntheticHistory:
    rng = np.random.default_rng(seed)
    family_weight = 1.0 / np.arange(1, families + 1) ** skew
    family_weight /= family_weight.sum()
    inner_weight = 1.0 / np.arange(1, family_size + 1) ** skew
    inner_weight /= inner_weight.sum()
    products = []
    for family in range(families):
        base = int(rng.integers(20, 200))
        for rank in range(family_size):
            price = base * (rank + 1)
            products.append(SyntheticProduct(family * family_size + rank, family, price, int(price * 0.6)))
    product_weight = np.repeat(family_weight, family_size) * np.tile(inner_weight, families)
    orders: list[tuple[int, int, list[int]]] = []
    low, high = orders_per_customer
    for customer in range(customers):
        favourites = rng.choice(families, size=int(rng.integers(1, 3)), replace=False, p=family_weight)
        count = int(rng.integers(low, high + 1))
        for day in np.sort(rng.integers(0, days, size=count)):
            family = (
                int(rng.choice(favourites)) if rng.random() < loyalty else int(rng.choice(families, p=family_weight))
            )
            size = int(rng.integers(2, 5))
            picked = rng.choice(family_size, size=min(size, family_size), replace=False, p=inner_weight)
            basket = [family * family_size + int(i) for i in picked]
            if rng.random() < 0.2:
                basket.append(int(rng.choice(len(products), p=product_weight)))
            orders.append((customer, int(day), sorted(set(basket))))
    return SyntheticHistory(products, orders)
