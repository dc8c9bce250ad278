"""The published CDNOW estimates, reproduced from the raw transaction log.

BG/NBD: Fader, Hardie & Lee (2005), Marketing Science 24(2), p. 282 — r = 0.243,
α = 4.414, a = 0.793, b = 2.426, LL = −9582.4 on 2,357 customers, 39-week calibration.
Gamma-Gamma: Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value" —
p = 6.25, q = 3.74, γ = 15.44 on the 946 repeat buyers.
Each is compared at the precision it was published with.
"""

from __future__ import annotations

import numpy as np
import pytest

from relacja_churn.domain.models.bgnbd import fit_bgnbd
from relacja_churn.domain.models.card import holdout_report
from relacja_churn.domain.models.gamma_gamma import fit_gamma_gamma
from relacja_churn.domain.models.summary import summarise

from .cdnow import CALIBRATION_END, HOLDOUT_END, load_cdnow_sample


@pytest.fixture(scope="module")
def summary():
    customer, day, amount = load_cdnow_sample()
    return summarise(customer, day, amount, calibration_end_day=CALIBRATION_END.toordinal(), unit="week")


def test_the_summary_has_the_papers_population(summary) -> None:
    assert len(summary) == 2357
    assert int((summary.x > 0).sum()) == 946
    # Customer 1 of the papers' summary file: x = 2, t_x = 30.43, T = 38.86.
    first = np.flatnonzero(summary.customer == 1)[0]
    assert (summary.x[first], round(summary.t_x[first], 2), round(summary.T[first], 2)) == (2, 30.43, 38.86)


def test_bgnbd_matches_fader_hardie_lee_2005(summary) -> None:
    fit = fit_bgnbd(summary.x, summary.t_x, summary.T)
    p = fit.params
    assert (round(p.r, 3), round(p.alpha, 3), round(p.a, 3), round(p.b, 3)) == (0.243, 4.414, 0.793, 2.426)
    assert round(fit.log_likelihood, 1) == -9582.4
    assert fit.n_customers == 2357


def test_gamma_gamma_matches_fader_hardie_2013(summary) -> None:
    fit = fit_gamma_gamma(summary.x, summary.monetary)
    p = fit.params
    assert (round(p.p, 2), round(p.q, 2), round(p.gamma, 2)) == (6.25, 3.74, 15.44)
    assert fit.n_customers == 946


def test_holdout_forecast_tracks_the_actual_repeat_purchases(summary) -> None:
    """The 39-week holdout (to 1998-06-30): the BG/NBD under-forecasts CDNOW's holdout a
    little (the paper's Figure 3 shows the same gap); the total stays within 15 %."""
    customer, day, _amount = load_cdnow_sample()
    fit = fit_bgnbd(summary.x, summary.t_x, summary.T)
    in_holdout = (day > CALIBRATION_END.toordinal()) & (day <= HOLDOUT_END.toordinal())
    # Same-day purchases are one transaction in the holdout too.
    pairs = np.unique(np.column_stack([customer[in_holdout], day[in_holdout]]), axis=0)
    counts = dict(zip(*np.unique(pairs[:, 0], return_counts=True), strict=True))
    actual = np.array([counts.get(c, 0) for c in summary.customer], dtype=float)
    length = (HOLDOUT_END.toordinal() - CALIBRATION_END.toordinal()) / 7
    groups, predicted_total, actual_total = holdout_report(fit.params, summary, actual, length)
    assert actual_total == actual.sum() and actual_total > 1000
    assert abs(predicted_total - actual_total) / actual_total < 0.15
    assert [g.label for g in groups] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(g.customers for g in groups) == 2357
    # Predictions rise with calibration frequency, as in the paper's Figure 4.
    predicted = [g.predicted for g in groups]
    assert predicted == sorted(predicted)
