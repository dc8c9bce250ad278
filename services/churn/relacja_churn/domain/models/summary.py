"""Per-customer (x, t_x, T, m̄) from a transaction log, as the models need it.

Rules (the papers' and the service's):
- orders of one customer on the same calendar day are one transaction (amounts summed);
- which orders count as purchases is the caller's choice (the service leaves out
  cancelled and fully returned orders; CDNOW keeps its zero-value purchases, as the
  papers do), so every row given here is a purchase;
- only transactions on or before the calibration end count; customers whose first
  purchase is after it are left out;
- x   = number of transactions after the first (repeat transactions),
  t_x = time from the first to the last transaction, T = time from the first purchase to
  the calibration end, both in the model's time unit (days / 7 for week);
- m̄  = mean value of the repeat transactions (the first is excluded, as in Fader & Hardie).

Input days are integers (days since any fixed epoch), so the whole computation is a few
sorts and reductions over NumPy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .units import DAYS_PER_UNIT, canonical_unit

__all__ = ["Summary", "summarise"]


@dataclass(frozen=True)
class Summary:
    customer: np.ndarray  # the caller's customer keys, one row per customer
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    monetary: np.ndarray  # mean repeat-transaction value, 0 when x = 0
    first_day: np.ndarray
    last_day: np.ndarray
    total_spend: np.ndarray  # all transactions up to the calibration end, first included

    def __len__(self) -> int:
        return len(self.customer)


def merge_days(customer: ArrayLike, day: ArrayLike, amount: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One row per (customer, day) with the summed amount, sorted by customer then day."""
    customer = np.asarray(customer)
    day = np.asarray(day, dtype=np.int64)
    amount = np.asarray(amount, dtype=np.float64)
    if len(customer) == 0:
        return customer, day, amount
    order = np.lexsort((day, customer))
    c, d, a = customer[order], day[order], amount[order]
    starts = np.flatnonzero(np.r_[True, (c[1:] != c[:-1]) | (d[1:] != d[:-1])])
    sums = np.add.reduceat(a, starts)
    return c[starts], d[starts], sums


def summarise(
    customer: ArrayLike, day: ArrayLike, amount: ArrayLike, *, calibration_end_day: int, unit: str = "week"
) -> Summary:
    """Summaries of every customer with a purchase on or before ``calibration_end_day``."""
    per_unit = DAYS_PER_UNIT[canonical_unit(unit)]
    day = np.asarray(day, dtype=np.int64)
    in_window = day <= calibration_end_day
    c, d, a = merge_days(np.asarray(customer)[in_window], day[in_window], np.asarray(amount)[in_window])
    if len(c) == 0:
        empty = np.empty(0)
        return Summary(np.asarray(c), empty, empty, empty, empty, empty.astype(np.int64), empty.astype(np.int64), empty)
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    ends = np.r_[starts[1:], len(c)] - 1
    counts = ends - starts + 1
    first_day = d[starts]
    last_day = d[ends]
    total = np.add.reduceat(a, starts)
    first_amount = a[starts]
    x = (counts - 1).astype(np.float64)
    repeat_total = total - first_amount
    monetary = np.divide(repeat_total, x, out=np.zeros_like(repeat_total), where=x > 0)
    return Summary(
        customer=c[starts],
        x=x,
        t_x=(last_day - first_day) / per_unit,
        T=(calibration_end_day - first_day) / per_unit,
        monetary=monetary,
        first_day=first_day,
        last_day=last_day,
        total_spend=total,
    )
