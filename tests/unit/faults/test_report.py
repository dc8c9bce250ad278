"""The fault harness's report and verdict arithmetic, without a stack."""

from __future__ import annotations

from pathlib import Path

from tests.faults.report import write_report
from tests.faults.verdict import Verdict


def test_a_verdict_passes_only_with_nothing_lost_doubled_or_stuck() -> None:
    assert Verdict("ok", accepted=10, projection_equal=True).passed
    assert Verdict("not checked", accepted=10).passed
    for bad in (
        {"lost": 1},
        {"doubled": 1},
        {"unapplied": 1},
        {"unpublished": 1},
        {"webhooks_missing": 1},
        {"internal_errors": 1},
    ):
        assert not Verdict("bad", **bad).passed, bad  # type: ignore[arg-type]
    assert not Verdict("rebuild differs", projection_equal=False).passed


def test_the_report_has_a_row_per_scenario_with_its_figures(tmp_path: Path) -> None:
    good = Verdict("kill -9 orders, restart", accepted=120, projection_equal=True, recovery_seconds=12.5)
    good.figures["restart to ready s"] = 7.1
    good.outcomes = {"place_order:201": 100, "place_order:503": 3}
    bad = Verdict("poison event mid-stream", accepted=50, lost=2, projection_equal=False)
    bad.details.append("lost order:x")
    target = tmp_path / "reliability.md"
    write_report([good, bad], target)
    text = target.read_text()
    assert (
        "| kill -9 orders, restart | pass | 120 | 0 | 0 | 0 | 0 | 0 | 0 | yes | 12.5 | restart to ready s 7.1 |" in text
    )
    assert "| poison event mid-stream | **FAIL** | 50 | 2 | 0 | 0 | 0 | 0 | 0 | **no** |" in text
    assert "place_order:201 100, place_order:503 3" in text and "lost order:x" in text


def test_a_table_with_fewer_verdicts_than_the_full_run_says_so(tmp_path: Path) -> None:
    target = tmp_path / "reliability.md"
    verdicts = [Verdict("a", projection_equal=True), Verdict("b", projection_equal=True)]
    write_report(verdicts, target, scenarios=3, started="2026-12-05 18:50 UTC (load average 4.0 3.0 2.0)")
    text = target.read_text()
    assert "Not the full run's table:** 2 of the 3 scenarios" in text
    assert "started 2026-12-05 18:50 UTC (load average 4.0 3.0 2.0)" in text
    write_report(verdicts, target, scenarios=2)
    assert "Not the full run's table" not in target.read_text()
