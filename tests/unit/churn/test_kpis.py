"""KPIs on a small hand-checked data set.

    A: 2024-01-05 (10 and 5: one transaction), 2024-02-10 (20), 2024-03-15 (30)
    B: 2024-01-20 (50)
    C: 2024-02-01 (8), 2024-03-02 (12)
    D: 2023-12-10 (40), 2024-02-20 (10)

Months Jan–Mar 2024. Active: Dec {D}, Jan {A, B}, Feb {A, C, D}, Mar {A, C}.
Retention: Jan 0/1 (D did not come back), Feb 1/2 (A), Mar 2/3 (A, C).
Repeat-purchase rate: Jan 0/2, Feb 2/3 (A and D have two days), Mar 2/2.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from relacja_churn.domain.kpis import ActiveModel, cohort_table, period_kpis, periods_between
from relacja_churn.domain.models.bgnbd import BgNbdParams

A, B, C, D = 0, 1, 2, 3
PURCHASES = [
    (A, date(2024, 1, 5), 10.0),
    (A, date(2024, 1, 5), 5.0),
    (A, date(2024, 2, 10), 20.0),
    (A, date(2024, 3, 15), 30.0),
    (B, date(2024, 1, 20), 50.0),
    (C, date(2024, 2, 1), 8.0),
    (C, date(2024, 3, 2), 12.0),
    (D, date(2023, 12, 10), 40.0),
    (D, date(2024, 2, 20), 10.0),
]
SURVEYS = [
    ("csat", 5, date(2024, 1, 3)),
    ("csat", 3, date(2024, 1, 9)),
    ("csat", 4, date(2024, 1, 30)),
    ("nps", 10, date(2024, 1, 2)),
    ("nps", 9, date(2024, 1, 2)),
    ("nps", 7, date(2024, 1, 2)),
    ("nps", 3, date(2024, 1, 2)),
    ("nps", 0, date(2024, 1, 2)),
    ("nps", 10, date(2024, 2, 14)),
]


def arrays():
    c = np.array([p[0] for p in PURCHASES])
    d = np.array([p[1].toordinal() for p in PURCHASES])
    a = np.array([p[2] for p in PURCHASES])
    kinds = np.array([s[0] for s in SURVEYS], dtype=object)
    scores = np.array([s[1] for s in SURVEYS], dtype=float)
    days = np.array([s[2].toordinal() for s in SURVEYS])
    return c, d, a, kinds, scores, days


def test_periods() -> None:
    months = periods_between(date(2024, 1, 15), date(2024, 3, 1), "month")
    assert [(p.start, p.end) for p in months] == [
        (date(2024, 1, 1), date(2024, 1, 31)),
        (date(2024, 2, 1), date(2024, 2, 29)),
        (date(2024, 3, 1), date(2024, 3, 31)),
    ]
    quarters = periods_between(date(2023, 12, 31), date(2024, 1, 1), "quarter")
    assert [(p.start, p.end) for p in quarters] == [
        (date(2023, 10, 1), date(2023, 12, 31)),
        (date(2024, 1, 1), date(2024, 3, 31)),
    ]
    assert [(p.start, p.end) for p in periods_between(date(2024, 5, 5), date(2024, 5, 5), "year")] == [
        (date(2024, 1, 1), date(2024, 12, 31))
    ]


def test_retention_attrition_repeat_rate_and_satisfaction_by_hand() -> None:
    c, d, a, kinds, scores, days = arrays()
    jan, feb, mar = period_kpis(
        c, d, a, kinds, scores, days, start=date(2024, 1, 1), end=date(2024, 3, 31), period="month", model=None
    )
    assert [p.active_customers for p in (jan, feb, mar)] == [2, 3, 2]
    assert [p.new_customers for p in (jan, feb, mar)] == [2, 1, 0]
    assert [p.customers_to_date for p in (jan, feb, mar)] == [3, 4, 4]
    assert jan.retention == 0.0 and jan.attrition == 1.0
    assert feb.retention == 0.5 and feb.attrition == 0.5
    assert mar.retention == pytest.approx(2 / 3) and mar.attrition == pytest.approx(1 / 3)
    assert [jan.repeat_purchase_rate, feb.repeat_purchase_rate, mar.repeat_purchase_rate] == [
        0.0,
        pytest.approx(2 / 3),
        1.0,
    ]
    assert jan.csat_responses == 3 and jan.csat == pytest.approx(2 / 3) and jan.csat_mean == 4.0
    assert (jan.nps_responses, jan.nps) == (5, 0.0)  # 2 promoters, 2 detractors of 5
    assert (feb.nps_responses, feb.nps, feb.csat) == (1, 100.0, None)
    assert (mar.csat_responses, mar.nps_responses, mar.nps) == (0, 0, None)
    assert jan.loyalty is None and jan.customer_equity is None  # no model


def test_loyalty_uses_p_alive_at_period_end() -> None:
    c, d, a, kinds, scores, days = arrays()
    bg = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    model = ActiveModel(bg, None, "week", 12, 0.01)
    (mar,) = period_kpis(
        c, d, a, kinds, scores, days, start=date(2024, 3, 1), end=date(2024, 3, 31), period="month", model=model
    )
    end = date(2024, 3, 31).toordinal()

    def p_alive(x, first, last):  # FHL 2005 P(alive), written out again here
        t_x, T = (last - first) / 7, (end - first) / 7
        return 1 / (1 + bg.a / (bg.b + x - 1) * ((bg.alpha + T) / (bg.alpha + t_x)) ** (bg.r + x))

    a_alive = p_alive(2, date(2024, 1, 5).toordinal(), date(2024, 3, 15).toordinal())
    c_alive = p_alive(1, date(2024, 2, 1).toordinal(), date(2024, 3, 2).toordinal())
    d_alive = p_alive(1, date(2023, 12, 10).toordinal(), date(2024, 2, 20).toordinal())
    expected_loyal = sum(p >= 0.5 for p in (a_alive, c_alive, d_alive))  # B never bought again
    assert mar.loyal_customers == expected_loyal and expected_loyal > 0
    assert mar.loyalty == pytest.approx(expected_loyal / 4)
    assert mar.customer_equity is not None and mar.customer_equity > 0


def test_cohort_table_by_hand() -> None:
    c, d, _, _, _, _ = arrays()
    jan, feb, mar = cohort_table(c, d, start=date(2024, 1, 1), end=date(2024, 3, 31), period="month")
    assert (jan.customers, jan.retention) == (2, [1.0, 0.5, 0.5])  # A and B; D's cohort is December
    assert (feb.customers, feb.retention) == (1, [1.0, 1.0])  # C
    assert (mar.customers, mar.retention) == (0, [])
