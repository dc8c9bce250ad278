"""Fit both models on a summary, score every customer, and validate on a holdout period.

The same code serves the HTTP model runs, the live re-scoring of one customer and the
analyst CLI, so the service and an offline check always agree.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from .bgnbd import BgNbdFit, BgNbdParams, conditional_expected_purchases, fit_bgnbd, probability_alive
from .clv import discounted_clv
from .gamma_gamma import GammaGammaFit, GammaGammaParams, conditional_expected_spend, fit_gamma_gamma
from .grouping import group_rows
from .summary import Summary
from .tiers import risk_tiers, value_band_cutoffs, value_bands
from .units import units_per_month

__all__ = ["FittedModels", "HoldoutGroup", "Scores", "fit_models", "holdout_report", "score"]


@dataclass(frozen=True)
class FittedModels:
    bgnbd: BgNbdFit
    gamma_gamma: GammaGammaFit | None  # None when there are too few repeat buyers
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Scores:
    p_alive: np.ndarray
    expected_purchases: np.ndarray  # in the horizon
    expected_spend: np.ndarray  # per transaction
    clv: np.ndarray
    risk_tier: np.ndarray
    value_band: np.ndarray


def fit_models(summary: Summary) -> FittedModels:
    started = time.perf_counter()
    bg = fit_bgnbd(summary.x, summary.t_x, summary.T)
    after_bg = time.perf_counter()
    try:
        gg = fit_gamma_gamma(summary.x, summary.monetary)
    except ValueError:
        gg = None
    done = time.perf_counter()
    return FittedModels(bg, gg, {"fit_bgnbd_seconds": after_bg - started, "fit_gamma_gamma_seconds": done - after_bg})


def score(
    bg: BgNbdParams,
    gg: GammaGammaParams | None,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    monetary: ArrayLike,
    *,
    unit: str,
    horizon_months: int,
    monthly_discount_rate: float,
    band_cutoffs: tuple[float, float, float] | None = None,
) -> tuple[Scores, tuple[float, float, float]]:
    """Scores per row; BG/NBD quantities are computed once per distinct (x, t_x, T).

    Without a spend model (too few repeat buyers) the expected spend falls back to the
    customer's own mean repeat spend. ``band_cutoffs`` defaults to this population's
    percentiles (a fresh run); pass a run's stored cut-offs when re-scoring one customer.
    """
    x = np.asarray(x, dtype=np.float64)
    monetary = np.asarray(monetary, dtype=np.float64)
    groups = group_rows(x, t_x, T)
    gx, gtx, gT = groups.columns
    horizon_units = horizon_months * units_per_month(unit)
    p_alive = groups.expand(probability_alive(bg, gx, gtx, gT))
    purchases = groups.expand(conditional_expected_purchases(bg, horizon_units, gx, gtx, gT))
    spend = conditional_expected_spend(gg, x, monetary) if gg is not None else monetary.copy()
    # CLV = spend × (discounted purchase profile), and the profile depends on (x, t_x, T) only.
    unit_value = discounted_clv(
        bg,
        np.ones(len(gx)),
        gx,
        gtx,
        gT,
        horizon_months=horizon_months,
        monthly_discount_rate=monthly_discount_rate,
        unit=unit,
    )
    clv = spend * groups.expand(unit_value)
    cutoffs = band_cutoffs if band_cutoffs is not None else value_band_cutoffs(clv)
    return (
        Scores(p_alive, purchases, spend, clv, risk_tiers(p_alive), value_bands(clv, cutoffs)),
        cutoffs,
    )


@dataclass(frozen=True)
class HoldoutGroup:
    label: str  # "0", "1", ..., "7+": repeat transactions in calibration
    customers: int
    predicted: float  # mean predicted repeat transactions in the holdout
    actual: float  # mean actual repeat transactions in the holdout


def holdout_report(
    bg: BgNbdParams, summary: Summary, actual_in_holdout: np.ndarray, holdout_length: float, *, max_group: int = 7
) -> tuple[list[HoldoutGroup], float, float]:
    """Predicted vs actual transactions in the holdout, by calibration frequency (the
    paper's conditional-expectation table, x = 0..max_group−1 and max_group+), plus the
    totals over all customers."""
    predicted = conditional_expected_purchases(bg, holdout_length, summary.x, summary.t_x, summary.T)
    actual = np.asarray(actual_in_holdout, dtype=np.float64)
    groups: list[HoldoutGroup] = []
    for k in range(max_group + 1):
        mask = summary.x >= k if k == max_group else summary.x == k
        n = int(mask.sum())
        if n == 0:
            continue
        label = f"{k}+" if k == max_group else str(k)
        groups.append(HoldoutGroup(label, n, float(predicted[mask].mean()), float(actual[mask].mean())))
    return groups, float(predicted.sum()), float(actual.sum())
