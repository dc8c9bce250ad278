"""The forecast's arithmetic (weighting, conversion with dated rates, rounding once to the
cent) and the pipeline report's figures from the stage history, by hand-computed examples."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from relacja_sales.domain import history
from relacja_sales.domain.forecast import PartialSum, RateTable, add_up, to_cents, weighted
from relacja_sales.domain.history import StageEntry

D = Decimal


def test_weighting_is_exact_and_rounding_happens_once() -> None:
    # Three deals of 0.10 at 15 %: 0.015 each. Rounded per deal (0.02 × 3 = 0.06) the sum
    # would be 1.5 cents too much; summed first and rounded once it is 0.045 → 0.05.
    assert weighted(D("0.10"), 15) == D("0.015")
    assert to_cents(weighted(D("0.10"), 15) * 3) == D("0.05")
    assert to_cents(D("0.005")) == D("0.01")  # ROUND_HALF_UP, not banker's rounding
    assert to_cents(D("-0.005")) == D("-0.01")


def test_rates_are_picked_by_date() -> None:
    rates = RateTable("PLN", [("EUR", date(2026, 1, 1), D("4.30")), ("EUR", date(2026, 7, 1), D("4.25"))])
    assert rates.rate_on("PLN", date(2020, 1, 1)) == 1
    assert rates.rate_on("EUR", date(2025, 12, 31)) is None
    assert rates.rate_on("EUR", date(2026, 1, 1)) == D("4.30")
    assert rates.rate_on("EUR", date(2026, 6, 30)) == D("4.30")
    assert rates.rate_on("EUR", date(2026, 7, 1)) == D("4.25")
    assert rates.rate_on("USD", date(2026, 7, 1)) is None


def test_a_forecast_by_hand() -> None:
    # Rep a: 10,000.00 PLN at 60 % (weighted 6,000.00), won 2,500.00 PLN (weighted 2,500.00).
    # Rep b: 1,000.00 EUR at 25 % on 2026-12-20 at 4.2000 → 4,200.00 PLN best case,
    #        1,050.00 PLN weighted; 333.33 EUR at 90 % on 2026-12-01 at 4.3000 → 299.997 EUR
    #        weighted × 4.3 = 1,289.9871 PLN; committed (≥ 80 %) 333.33 × 4.3 = 1,433.319 PLN.
    # Rep b also has 50.00 USD with no rate: counted, reported, not converted.
    rates = RateTable("PLN", [("EUR", date(2026, 12, 1), D("4.3000")), ("EUR", date(2026, 12, 15), D("4.2000"))])
    day1, day20 = date(2026, 12, 1), date(2026, 12, 20)
    partials = [
        PartialSum(("a",), "PLN", day1, D("6000.00") + D("2500.00"), D("2500.00"), D("12500.00"), 2),
        PartialSum(("b",), "EUR", day20, weighted(D("1000.00"), 25), D("0"), D("1000.00"), 1),
        PartialSum(("b",), "EUR", day1, weighted(D("333.33"), 90), D("333.33"), D("333.33"), 1),
        PartialSum(("b",), "USD", day1, D("25.00"), D("0"), D("50.00"), 1),
    ]
    cells, total = add_up(partials, rates)
    assert cells[("a",)].weighted == D("8500.00")
    assert cells[("a",)].committed == D("2500.00") and cells[("a",)].best_case == D("12500.00")
    b = cells[("b",)]
    assert b.weighted == D("2339.99")  # 1,050.00 + 1,289.9871 = 2,339.9871
    assert b.committed == D("1433.32")  # 1,433.319
    assert b.best_case == D("5633.32")  # 4,200.00 + 1,433.319
    assert b.deals == 3 and b.unconverted == {"USD"}
    assert total.weighted == D("10839.99")  # 8,500 + 2,339.9871, rounded once
    assert total.best_case == D("18133.32") and total.deals == 5 and total.unconverted == {"USD"}


T0 = datetime(2026, 11, 1, 9, tzinfo=UTC)


def _deal_path(deal: object, stages: list[tuple[str, int]], left_last: bool) -> list[StageEntry]:
    """Entries for a deal entering each stage after the given hours, the last one still open."""
    entries = []
    moments = [T0 + timedelta(hours=h) for _, h in stages]
    for index, (stage, _) in enumerate(stages):
        left = moments[index + 1] if index + 1 < len(stages) else (moments[index] if left_last else None)
        entries.append(StageEntry(deal, stage, moments[index], left))
    return entries


def test_stage_history_figures_by_hand() -> None:
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    entries = [
        *_deal_path(a, [("qualify", 0), ("propose", 10), ("won", 30)], left_last=True),  # won
        *_deal_path(b, [("qualify", 0), ("propose", 4)], left_last=False),  # open in propose
        *_deal_path(c, [("qualify", 0), ("lost", 2)], left_last=True),  # lost from qualify
    ]
    now = T0 + timedelta(hours=24)
    # qualify: a 10 h, b 4 h, c 2 h → 16 h / 3 = 5 h 20 min = 19,200 s
    # propose: a 20 h, b 20 h (open: 4 h → 24 h) → 72,000 s; won and lost: 0 s (left at once)
    ages = history.stage_ages(entries, now)
    assert ages["qualify"] == 19_200 and ages["propose"] == 72_000 and ages["won"] == 0
    # qualify → propose: a and b of a, b, c = 66.67 %; propose → won: a of a, b = 50.00 %
    rates = history.conversions(entries, ["qualify", "propose", "won"])
    assert rates == [("qualify", "propose", D("66.67")), ("propose", "won", D("50.00"))]
    assert history.win_rate({"won": 1, "lost": 1, "open": 1}) == D("50.00")
    assert history.win_rate({"open": 4}) is None
    assert history.mean_seconds([(T0, T0 + timedelta(hours=30)), (T0, T0 + timedelta(hours=2))]) == 57_600
    assert history.mean_seconds([]) is None


def test_a_deal_that_skips_a_stage_still_converts_past_it() -> None:
    deal = uuid.uuid4()
    entries = _deal_path(deal, [("qualify", 0), ("won", 1)], left_last=True)
    rates = history.conversions(entries, ["qualify", "propose", "won"])
    assert rates == [("qualify", "propose", D("100.00")), ("propose", "won", None)]
