"""Relationship KPIs per calendar period, and the cohort retention table.

Definitions (docs/churn.md repeats them):

- **active customer** of a period: made at least one purchase in it.
- **retention** of period k: of the customers active in period k−1, the share also
  active in period k; **attrition** = 1 − retention. Null when nobody was active in k−1.
- **repeat-purchase rate** of period k: of the customers active in period k, the share
  who by the end of period k have made at least two purchases (days) in total.
- **satisfaction**: CSAT = share of CSAT answers scoring 4 or 5 (of 1–5), plus their mean;
  NPS = % promoters (9–10) − % detractors (0–6) of NPS answers, from −100 to 100.
- **loyalty** of period k: of the customers acquired by the end of period k, the share
  who are *loyal* — they bought again (at least one repeat purchase) and are probably
  still active (BG/NBD P(alive) ≥ 0.5 measured at the end of period k with the active
  run's parameters).
- **customer equity** of period k: the sum over customers acquired by the end of period k
  of their discounted CLV measured at the end of period k (active run's parameters,
  horizon and discount rate).
- **cohort retention**: customers grouped by the period of their first purchase; cell
  (cohort, offset) = share of the cohort active in period cohort + offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np

from .models.bgnbd import BgNbdParams, probability_alive
from .models.card import score
from .models.gamma_gamma import GammaGammaParams
from .models.summary import summarise

__all__ = [
    "LOYAL_MIN_PROBABILITY_ALIVE",
    "MAX_PERIODS",
    "ActiveModel",
    "CohortRow",
    "Period",
    "PeriodKpis",
    "PeriodName",
    "cohort_table",
    "period_kpis",
    "periods_between",
    "range_error",
]

PeriodName = Literal["month", "quarter", "year"]
#: P(alive) from which a repeat buyer counts as loyal.
LOYAL_MIN_PROBABILITY_ALIVE = 0.5
#: The most periods one request answers (120 months = 10 years).
MAX_PERIODS = 120
_MONTHS = {"month": 1, "quarter": 3, "year": 12}
_EPOCH = date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class Period:
    index: int  # months since 1970-01 divided by the period length
    start: date
    end: date  # inclusive


@dataclass(frozen=True)
class ActiveModel:
    bg: BgNbdParams
    gg: GammaGammaParams | None
    time_unit: str
    horizon_months: int
    monthly_discount_rate: float


@dataclass(frozen=True)
class PeriodKpis:
    period: Period
    active_customers: int
    new_customers: int
    customers_to_date: int
    retention: float | None
    attrition: float | None
    repeat_purchase_rate: float | None
    csat_responses: int
    csat: float | None
    csat_mean: float | None
    nps_responses: int
    nps: float | None
    loyalty: float | None
    loyal_customers: int | None
    customer_equity: float | None


def period_of_days(days: np.ndarray, period: PeriodName) -> np.ndarray:
    """Period index of day ordinals (vectorised)."""
    months = (
        (np.asarray(days, dtype=np.int64) - _EPOCH).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    )
    return months // _MONTHS[period]


def _period(index: int, period: PeriodName) -> Period:
    months = index * _MONTHS[period]
    start = date(1970 + months // 12, months % 12 + 1, 1)
    following = months + _MONTHS[period]
    end = date.fromordinal(date(1970 + following // 12, following % 12 + 1, 1).toordinal() - 1)
    return Period(index, start, end)


def periods_between(start: date, end: date, period: PeriodName) -> list[Period]:
    first, last = (int(i) for i in period_of_days(np.array([start.toordinal(), end.toordinal()]), period))
    return [_period(i, period) for i in range(first, last + 1)]


def range_error(start: date, end: date, period: PeriodName) -> tuple[str, str] | None:
    """Why ``start``..``end`` is not a range the KPIs answer, as (parameter, message); None if it is."""
    if start > end:
        return "from", "after `to`"
    if len(periods_between(start, end, period)) > MAX_PERIODS:
        return "to", f"more than {MAX_PERIODS} {period}s after `from`"
    return None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def period_kpis(
    customer: np.ndarray,
    day: np.ndarray,
    amount: np.ndarray,
    survey_kind: np.ndarray,
    survey_score: np.ndarray,
    survey_day: np.ndarray,
    *,
    start: date,
    end: date,
    period: PeriodName,
    model: ActiveModel | None,
) -> list[PeriodKpis]:
    """KPIs for every period from the one containing ``start`` to the one containing ``end``.

    ``customer``/``day``/``amount`` are purchases (any number per day); only those up to
    the last period's end matter, earlier history included."""
    periods = periods_between(start, end, period)
    customer = np.asarray(customer, dtype=np.int64)
    day = np.asarray(day, dtype=np.int64)
    keep = day <= periods[-1].end.toordinal()
    customer, day, amount = customer[keep], day[keep], np.asarray(amount, dtype=np.float64)[keep]
    # One row per customer and purchase day.
    pairs = np.unique(np.column_stack([customer, day]), axis=0) if len(customer) else np.empty((0, 2), np.int64)
    c_days, d_days = pairs[:, 0], pairs[:, 1]
    p_days = period_of_days(d_days, period)
    first_day = {}
    if len(c_days):
        starts = np.flatnonzero(np.r_[True, c_days[1:] != c_days[:-1]])
        first_day = dict(zip(c_days[starts].tolist(), d_days[starts].tolist(), strict=True))
    first_days = np.array(list(first_day.values()), dtype=np.int64)
    first_periods = period_of_days(first_days, period) if len(first_days) else np.empty(0, np.int64)
    active_pairs = np.unique(np.column_stack([c_days, p_days]), axis=0) if len(c_days) else np.empty((0, 2), np.int64)
    stride = int(active_pairs[:, 1].max()) + 2 if len(active_pairs) else 1
    active_codes = active_pairs[:, 0] * stride + active_pairs[:, 1]
    survey_kind = np.asarray(survey_kind, dtype=object)
    survey_score = np.asarray(survey_score, dtype=np.float64)
    survey_period = (
        period_of_days(np.asarray(survey_day, dtype=np.int64), period) if len(survey_day) else np.empty(0, np.int64)
    )

    result: list[PeriodKpis] = []
    for p in periods:
        end_day = p.end.toordinal()
        in_period = active_pairs[:, 1] == p.index
        active = active_pairs[in_period, 0]
        previous = active_pairs[active_pairs[:, 1] == p.index - 1, 0]
        retained = int(np.isin(previous * stride + p.index, active_codes).sum()) if len(previous) else 0
        retention = _share(retained, len(previous))
        purchases_to_date = np.bincount(
            c_days[d_days <= end_day], minlength=int(c_days.max()) + 1 if len(c_days) else 0
        )
        repeaters = int((purchases_to_date[active] >= 2).sum()) if len(active) else 0
        csat_mask = (survey_period == p.index) & (survey_kind == "csat")
        nps_mask = (survey_period == p.index) & (survey_kind == "nps")
        csat_scores, nps_scores = survey_score[csat_mask], survey_score[nps_mask]
        nps = None
        if len(nps_scores):
            nps = 100.0 * (float((nps_scores >= 9).sum()) - float((nps_scores <= 6).sum())) / len(nps_scores)
        loyalty = loyal = equity = None
        acquired = int((first_days <= end_day).sum())
        if model is not None:
            loyalty, loyal, equity = _model_kpis(customer, day, amount, end_day, model, acquired)
        result.append(
            PeriodKpis(
                period=p,
                active_customers=len(active),
                new_customers=int((first_periods == p.index).sum()),
                customers_to_date=acquired,
                retention=retention,
                attrition=None if retention is None else 1.0 - retention,
                repeat_purchase_rate=_share(repeaters, len(active)),
                csat_responses=len(csat_scores),
                csat=_share(int((csat_scores >= 4).sum()), len(csat_scores)),
                csat_mean=float(csat_scores.mean()) if len(csat_scores) else None,
                nps_responses=len(nps_scores),
                nps=nps,
                loyalty=loyalty,
                loyal_customers=loyal,
                customer_equity=equity,
            )
        )
    return result


def _model_kpis(
    customer: np.ndarray, day: np.ndarray, amount: np.ndarray, end_day: int, model: ActiveModel, acquired: int
) -> tuple[float | None, int, float]:
    if acquired == 0:
        return None, 0, 0.0
    s = summarise(customer, day, amount, calibration_end_day=end_day, unit=model.time_unit)
    p_alive = probability_alive(model.bg, s.x, s.t_x, s.T)
    loyal = int(((s.x >= 1) & (p_alive >= LOYAL_MIN_PROBABILITY_ALIVE)).sum())
    scores, _ = score(
        model.bg,
        model.gg,
        s.x,
        s.t_x,
        s.T,
        s.monetary,
        unit=model.time_unit,
        horizon_months=model.horizon_months,
        monthly_discount_rate=model.monthly_discount_rate,
        band_cutoffs=(0.0, 0.0, 0.0),
    )
    return loyal / len(s), loyal, float(scores.clv.sum())


@dataclass(frozen=True)
class CohortRow:
    cohort: Period
    customers: int
    retention: list[float]  # offset 0, 1, ... up to the last period


def cohort_table(
    customer: np.ndarray, day: np.ndarray, *, start: date, end: date, period: PeriodName
) -> list[CohortRow]:
    """Cohorts acquired between ``start`` and ``end``, followed up to the period of ``end``."""
    periods = periods_between(start, end, period)
    customer = np.asarray(customer, dtype=np.int64)
    day = np.asarray(day, dtype=np.int64)
    if len(customer) == 0:
        return [CohortRow(p, 0, []) for p in periods]
    p_index = period_of_days(day, period)
    pairs = np.unique(np.column_stack([customer, p_index]), axis=0)
    starts = np.flatnonzero(np.r_[True, pairs[1:, 0] != pairs[:-1, 0]])
    counts = np.diff(np.r_[starts, len(pairs)])
    cohort_of_pair = np.repeat(pairs[starts, 1], counts)
    last = periods[-1].index
    rows = []
    for p in periods:
        members = pairs[starts, 1] == p.index
        size = int(members.sum())
        shares = []
        for k in range(p.index, last + 1):
            n = int(((cohort_of_pair == p.index) & (pairs[:, 1] == k)).sum())
            shares.append(n / size if size else 0.0)
        rows.append(CohortRow(p, size, shares if size else []))
    return rows
