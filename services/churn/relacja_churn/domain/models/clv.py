"""Discounted customer lifetime value.

The service uses the discrete monthly discounting of the `lifetimes` library (and of
Fader, Hardie & Lee's spreadsheet notes), stated here so it can be checked by hand:

    CLV = Σ_{i=1..H} E[M] · ( E[Y(i·k) | x, t_x, T] − E[Y((i−1)·k) | x, t_x, T] ) / (1 + d)^i

    H      horizon in months
    k      model time units per month (week: 365.25/12/7 ≈ 4.348)
    d      discount rate per month (e.g. 0.01; an annual rate R is (1+R)^(1/12) − 1 monthly)
    E[Y]   BG/NBD conditional expected purchases (bgnbd.conditional_expected_purchases)
    E[M]   Gamma-Gamma conditional expected spend per transaction

Each month's expected purchases are valued at the expected spend and discounted to the
calibration end as if paid at the end of that month.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .bgnbd import BgNbdParams, horizon_tail, purchase_weight
from .grouping import group_rows
from .units import units_per_month

__all__ = ["discounted_clv", "monthly_purchase_profile"]


def monthly_purchase_profile(
    params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike, *, horizon_months: int, unit: str
) -> np.ndarray:
    """Cumulative expected purchases at the end of each month 0..H, shape (H+1, n).

    Computed as eq. 10 split in two: the horizon-free weight once per row, the
    hypergeometric bracket once per distinct (x, T) and month."""
    k = units_per_month(unit)
    x = np.asarray(x, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    weight = purchase_weight(params, x, t_x, T)
    groups = group_rows(x, T)
    gx, gT = groups.columns
    cumulative = np.zeros((horizon_months + 1, len(x)))
    for i in range(1, horizon_months + 1):
        cumulative[i] = weight * groups.expand(horizon_tail(params, i * k, gx, gT))
    return cumulative


def discounted_clv(
    params: BgNbdParams,
    expected_spend: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    horizon_months: int,
    monthly_discount_rate: float,
    unit: str,
) -> np.ndarray:
    """CLV per row by the formula of the module docstring."""
    cumulative = monthly_purchase_profile(params, x, t_x, T, horizon_months=horizon_months, unit=unit)
    per_month = np.diff(cumulative, axis=0)
    factors = (1.0 + monthly_discount_rate) ** -np.arange(1, horizon_months + 1)
    return np.asarray(expected_spend, dtype=np.float64) * (factors @ per_month)
