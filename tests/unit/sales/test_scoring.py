"""Lead scoring reproduces hand-computed naive Bayes probabilities on a fixture."""

from __future__ import annotations

from decimal import Decimal

from relacja_sales.domain.scoring import Counts, win_probability

D = Decimal

# A team with 100 won and 300 lost deals.
TOTALS = Counts(won=100, lost=300)
TABLE = {
    "source": {"partner": Counts(60, 40), "web_form": Counts(30, 200), "campaign": Counts(10, 30)},
    "currency": {"PLN": Counts(90, 290), "EUR": Counts(10, 10)},  # EUR: 20 observations, ignored
}


def test_one_field_by_hand() -> None:
    # prior 100 / 400 = 0.25; source partner: P(v|won) = 60.1 / (60.1 + 30.1 + 10.1) = 60.1 / 100.3,
    # P(v|lost) = 40.1 / (40.1 + 200.1 + 30.1) = 40.1 / 270.3.
    # A = 0.25 × 0.599202... = 0.149800..., B = 0.75 × 0.148353... = 0.111265...
    # A / (A + B) = 0.573822... → 57.38 %
    score, evidence = win_probability(TOTALS, TABLE, {"source": "partner"})
    assert score == D("57.38")
    assert [(e.field, e.value, e.used) for e in evidence] == [("source", "partner", True)]


def test_two_fields_and_an_ignored_value_by_hand() -> None:
    # web_form: 30.1 / 100.3 = 0.300100, 200.1 / 270.3 = 0.740289; PLN: 90.1 / 100.2 = 0.899202,
    # 290.1 / 300.2 = 0.966356. A = 0.25 × 0.300100 × 0.899202 = 0.067462,
    # B = 0.75 × 0.740289 × 0.966356 = 0.536539 → 0.067462 / 0.604001 = 11.17 %
    score, _ = win_probability(TOTALS, TABLE, {"source": "web_form", "currency": "PLN"})
    assert score == D("11.17")
    # EUR has 20 observations (< 50): only the source counts, as in the first test.
    score, evidence = win_probability(TOTALS, TABLE, {"source": "partner", "currency": "EUR"})
    assert score == D("57.38")
    assert [e.used for e in evidence] == [True, False]


def test_unknown_values_fall_back_to_the_prior_and_scores_are_clamped() -> None:
    score, _ = win_probability(TOTALS, TABLE, {"source": "referral"})
    assert score == D("25.00")
    assert win_probability(Counts(0, 0), TABLE, {"source": "partner"})[0] is None
    assert win_probability(Counts(0, 500), {}, {})[0] == D("1")  # 0 % → clamped to 1 %
    assert win_probability(Counts(500, 0), {}, {})[0] == D("99.99")  # 100 % → 99.99 %
