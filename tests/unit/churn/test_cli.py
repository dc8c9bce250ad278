"""The analyst CLI on the CDNOW log written as a CSV of transactions."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from relacja_churn.cli import main

from .cdnow import CDNOW_DIR


@pytest.fixture
def cdnow_csv(tmp_path):
    path = tmp_path / "transactions.csv"
    rows = ["customer_id,date,amount"]
    for line in (CDNOW_DIR / "CDNOW_sample.txt").read_text().splitlines():
        _, sample_id, ymd, _, dollars = line.split()
        rows.append(f"{sample_id},{ymd[:4]}-{ymd[4:6]}-{ymd[6:]},{dollars}")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_fit_prints_the_published_parameters_as_json(cdnow_csv, capsys) -> None:
    # "weeks": the deprecated plural spelling is still accepted.
    assert main(["fit", str(cdnow_csv), "--calibration-end", "1997-09-30", "--time-unit", "weeks", "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    bg, gg = card["bgnbd"], card["gamma_gamma"]
    assert (round(bg["r"], 3), round(bg["alpha"], 3), round(bg["a"], 3), round(bg["b"], 3)) == (
        0.243,
        4.414,
        0.793,
        2.426,
    )
    assert (round(gg["p"], 2), round(gg["q"], 2), round(gg["gamma"], 2)) == (6.25, 3.74, 15.44)
    assert round(card["fit"]["log_likelihood"], 1) == -9582.4
    assert card["fit"]["n_customers"] == 2357


def test_fit_prints_a_model_card_with_the_holdout_table(cdnow_csv) -> None:
    # As an analyst runs it: a separate process, no services.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "relacja_churn.cli",
            "fit",
            str(cdnow_csv),
            "--calibration-end",
            "1997-09-30",
            "--holdout-end",
            "1998-06-30",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout
    assert "r = 0.2426  alpha = 4.4136  a = 0.7929  b = 2.4259" in out
    assert "log-likelihood       -9582.4292" in out
    assert "customers            2357 (946 repeat buyers" in out
    assert "holdout to 1998-06-30 (39.00 weeks)" in out and "7+" in out
    assert "time unit week" in out


def test_bad_input_is_a_clear_error(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("customer,date,amount\n1,2020-01-01,5\n")
    assert main(["fit", str(bad), "--calibration-end", "2020-12-31"]) == 2
    assert "missing column(s) customer_id" in capsys.readouterr().err
    bad.write_text("customer_id,date,amount\n1,2020-01-01,5\n1,yesterday,5\n")
    assert main(["fit", str(bad), "--calibration-end", "2020-12-31"]) == 2
    assert "bad.csv:3" in capsys.readouterr().err
