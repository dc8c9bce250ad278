"""Churn-risk tiers and value bands.

Risk tier from the probability that the customer is still alive (BG/NBD P(alive)):

    low        P(alive) ≥ 0.75
    medium     0.50 ≤ P(alive) < 0.75
    high       0.25 ≤ P(alive) < 0.50
    critical   P(alive) < 0.25

Note: in BG/NBD a customer can only "die" just after a purchase, so a one-time buyer has
P(alive) = 1 and is always tier ``low``; their low expected purchases show in the CLV and
value band instead.

Value band from the customer's CLV relative to the run's CLV distribution: the cut-offs
are the 50th, 80th and 95th percentiles of the run's customers, fixed when the run is
fitted so that live re-scoring with the same run keeps comparable bands:

    top     CLV ≥ p95        high    p80 ≤ CLV < p95
    medium  p50 ≤ CLV < p80  low     CLV < p50
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "RISK_THRESHOLDS",
    "RISK_TIERS",
    "VALUE_BANDS",
    "RiskTier",
    "ValueBand",
    "risk_tiers",
    "value_band_cutoffs",
    "value_bands",
]

RiskTier = Literal["low", "medium", "high", "critical"]
ValueBand = Literal["low", "medium", "high", "top"]

RISK_TIERS: tuple[str, ...] = ("critical", "high", "medium", "low")
RISK_THRESHOLDS = (0.25, 0.50, 0.75)  # boundaries between the tiers above, ascending
VALUE_BANDS: tuple[str, ...] = ("low", "medium", "high", "top")
VALUE_PERCENTILES = (50.0, 80.0, 95.0)


def risk_tiers(p_alive: ArrayLike) -> np.ndarray:
    index = np.searchsorted(np.asarray(RISK_THRESHOLDS), np.asarray(p_alive, dtype=np.float64), side="right")
    return np.asarray(RISK_TIERS, dtype=object)[index]


def value_band_cutoffs(clv: ArrayLike) -> tuple[float, float, float]:
    values = np.asarray(clv, dtype=np.float64)
    if values.size == 0:
        return (0.0, 0.0, 0.0)
    p50, p80, p95 = np.percentile(values, VALUE_PERCENTILES)
    return (float(p50), float(p80), float(p95))


def value_bands(clv: ArrayLike, cutoffs: tuple[float, float, float]) -> np.ndarray:
    index = np.searchsorted(np.asarray(cutoffs), np.asarray(clv, dtype=np.float64), side="right")
    return np.asarray(VALUE_BANDS, dtype=object)[index]
