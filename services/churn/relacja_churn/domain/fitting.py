"""One model run as pure computation: transactions in, fitted models and scores out.

    Transactions   purchases per customer and day, as arrays (customer key i ↔ ids[i])
    RunConfig      the run's windows, time unit, horizon and discount rate
    compute_run    summaries, both fits, scores, value-band cut-offs, the holdout report
    results_of     the run's stored figures (parameters, fit statistics, holdout)

The service's run worker (app/execution.py) and the analyst CLI (cli.py) both call
these, so a run fitted through the API and one fitted on a CSV give the same numbers.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from .models.card import FittedModels, Scores, fit_models, holdout_report, score
from .models.summary import Summary, summarise
from .models.units import DAYS_PER_UNIT, canonical_unit

__all__ = ["RunConfig", "RunOutcome", "Transactions", "compute_run", "results_of"]


@dataclass(frozen=True)
class Transactions:
    ids: list[uuid.UUID] | list[str]  # customer key i ↔ ids[i] (the CLI keys by the CSV's text ids)
    customer: np.ndarray
    day: np.ndarray  # date.toordinal()
    amount: np.ndarray


@dataclass(frozen=True)
class RunConfig:
    calibration_end: date
    time_unit: str
    horizon_months: int
    monthly_discount_rate: float
    acquired_from: date | None = None
    holdout_end: date | None = None


@dataclass(frozen=True)
class RunOutcome:
    customer_ids: list[Any]  # one per summary row
    summary: Summary
    fitted: FittedModels
    scores: Scores
    band_cutoffs: tuple[float, float, float]
    holdout: dict[str, Any] | None
    timings: dict[str, float]


def compute_run(tx: Transactions, config: RunConfig) -> RunOutcome:
    """Summaries, fits, scores and the holdout report: pure computation on arrays."""
    started = time.perf_counter()
    unit = canonical_unit(config.time_unit)
    end_day = config.calibration_end.toordinal()
    summary = summarise(tx.customer, tx.day, tx.amount, calibration_end_day=end_day, unit=unit)
    if config.acquired_from is not None:
        keep = summary.first_day >= config.acquired_from.toordinal()
        summary = Summary(*(getattr(summary, f)[keep] for f in Summary.__dataclass_fields__))
    if len(summary) == 0:
        raise ValueError("no customer has a purchase in the calibration window")
    summarised = time.perf_counter()
    fitted = fit_models(summary)
    fitted_at = time.perf_counter()
    gg = fitted.gamma_gamma.params if fitted.gamma_gamma else None
    result, cutoffs = score(
        fitted.bgnbd.params,
        gg,
        summary.x,
        summary.t_x,
        summary.T,
        summary.monetary,
        unit=unit,
        horizon_months=config.horizon_months,
        monthly_discount_rate=config.monthly_discount_rate,
    )
    scored = time.perf_counter()
    holdout = None
    if config.holdout_end is not None:
        in_holdout = (tx.day > end_day) & (tx.day <= config.holdout_end.toordinal())
        # Same-day purchases are one transaction in the holdout too.
        pairs = np.unique(np.column_stack([tx.customer[in_holdout], tx.day[in_holdout]]), axis=0)
        per_customer = np.bincount(pairs[:, 0], minlength=len(tx.ids))
        actual = per_customer[summary.customer].astype(np.float64)
        length = (config.holdout_end.toordinal() - end_day) / DAYS_PER_UNIT[unit]
        groups, predicted_total, actual_total = holdout_report(fitted.bgnbd.params, summary, actual, length)
        holdout = {
            "holdout_end": config.holdout_end.isoformat(),
            "length": length,
            "groups": [g.__dict__ for g in groups],
            "total": {"predicted": predicted_total, "actual": actual_total},
        }
    timings = {
        "summarise_seconds": summarised - started,
        **fitted.timings,
        "fit_seconds": fitted_at - summarised,
        "score_seconds": scored - fitted_at,
    }
    return RunOutcome([tx.ids[i] for i in summary.customer], summary, fitted, result, cutoffs, holdout, timings)


def results_of(outcome: RunOutcome) -> dict[str, Any]:
    """The run's figures as stored on its row (and printed by the CLI)."""
    bg = outcome.fitted.bgnbd
    gg = outcome.fitted.gamma_gamma
    s = outcome.summary
    return {
        "bgnbd": {"r": bg.params.r, "alpha": bg.params.alpha, "a": bg.params.a, "b": bg.params.b},
        "gamma_gamma": {"p": gg.params.p, "q": gg.params.q, "gamma": gg.params.gamma} if gg else None,
        "fit": {
            "log_likelihood": bg.log_likelihood,
            "gamma_gamma_log_likelihood": gg.log_likelihood if gg else None,
            "n_customers": len(s),
            "n_repeat_buyers": int((s.x > 0).sum()),
            "n_transactions": int(s.x.sum() + len(s)),
            "n_distinct_rows": bg.n_groups,
            "converged": bg.converged and (gg.converged if gg else True),
            "first_purchase_from": date.fromordinal(int(s.first_day.min())).isoformat(),
            "first_purchase_to": date.fromordinal(int(s.first_day.max())).isoformat(),
            "last_purchase_on": date.fromordinal(int(s.last_day.max())).isoformat(),
            "total_clv": float(outcome.scores.clv.sum()),
        },
        "holdout": outcome.holdout,
        "band_cutoffs": list(outcome.band_cutoffs),
    }
