"""Analyst CLI: fit the churn models on a CSV of transactions, no services needed.

    python -m relacja_churn.cli fit transactions.csv --calibration-end 1997-09-30 --time-unit week

The CSV has a header with ``customer_id``, ``date`` (YYYY-MM-DD or YYYYMMDD) and
``amount``; every row is a purchase (same-day rows of a customer are merged). It prints
the model card — the same numbers ``POST /api/v1/churn/models`` stores, computed by the
same code (``domain.fitting.compute_run``) — or JSON with ``--json``.

An entry point of its own beside main.py, not a layer: it imports only the pure
``domain/`` (no database, no settings), so it runs anywhere the package is installed.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from .domain.fitting import RunConfig, Transactions, compute_run, results_of
from .domain.models.units import DEPRECATED_UNITS, canonical_unit

__all__ = ["main", "read_transactions"]


def _parse_day(text: str) -> date:
    text = text.strip()
    if len(text) == 8 and text.isdigit():
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    return date.fromisoformat(text[:10])


def read_transactions(path: Path) -> Transactions:
    """Read the CSV; a clear error names the first bad line."""
    keys: dict[str, int] = {}
    customers: list[int] = []
    days: list[int] = []
    amounts: list[float] = []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"customer_id", "date", "amount"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            try:
                day = _parse_day(row["date"])
                amount = float(row["amount"])
            except ValueError as exc:
                raise ValueError(f"{path}:{line}: {exc}") from None
            customers.append(keys.setdefault(row["customer_id"], len(keys)))
            days.append(day.toordinal())
            amounts.append(amount)
    ids = list(keys)
    return Transactions(ids, np.array(customers, dtype=np.int64), np.array(days, dtype=np.int64), np.array(amounts))


def format_card(results: dict[str, Any], config: RunConfig, timings: dict[str, float]) -> str:
    bg, gg, fit = results["bgnbd"], results["gamma_gamma"], results["fit"]
    lines = [
        "Model card",
        f"  calibration end      {config.calibration_end}   time unit {config.time_unit}",
        f"  customers            {fit['n_customers']} ({fit['n_repeat_buyers']} repeat buyers, {fit['n_transactions']} transactions)",
        f"  first purchases      {fit['first_purchase_from']} .. {fit['first_purchase_to']}",
        "  BG/NBD               r = {r:.4f}  alpha = {alpha:.4f}  a = {a:.4f}  b = {b:.4f}".format(**bg),
        f"  log-likelihood       {fit['log_likelihood']:.4f}",
    ]
    if gg:
        lines.append("  Gamma-Gamma          p = {p:.4f}  q = {q:.4f}  gamma = {gamma:.4f}".format(**gg))
        lines.append(f"  log-likelihood       {fit['gamma_gamma_log_likelihood']:.4f}")
    else:
        lines.append("  Gamma-Gamma          not fitted (fewer than three repeat buyers)")
    lines.append(
        f"  customer equity      {fit['total_clv']:.2f} (CLV over {config.horizon_months} months, "
        f"{config.monthly_discount_rate:.4f} discount per month)"
    )
    lines.append(f"  converged            {fit['converged']}")
    holdout = results["holdout"]
    if holdout:
        lines.append(
            f"  holdout to {holdout['holdout_end']} ({holdout['length']:.2f} {config.time_unit}s): repeat purchases per customer"
        )
        lines.append("    x in calibration   customers   predicted   actual")
        for g in holdout["groups"]:
            lines.append(f"    {g['label']:>17}   {g['customers']:>9}   {g['predicted']:>9.3f}   {g['actual']:>6.3f}")
        total = holdout["total"]
        lines.append(f"    {'total':>17}   {'':>9}   {total['predicted']:>9.1f}   {total['actual']:>6.1f}")
    lines.append(
        "  timings (s)          " + "  ".join(f"{k.removesuffix('_seconds')} {v:.3f}" for k, v in timings.items())
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m relacja_churn.cli", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fit = commands.add_parser("fit", help="fit BG/NBD and Gamma-Gamma and print the model card")
    fit.add_argument("csv", type=Path)
    fit.add_argument("--calibration-end", type=date.fromisoformat, required=True)
    fit.add_argument(
        "--time-unit",
        type=canonical_unit,
        choices=["day", "week", "month"],
        default="week",
        help=f"the model's clock (deprecated aliases: {', '.join(DEPRECATED_UNITS)})",
    )
    fit.add_argument("--acquired-from", type=date.fromisoformat, default=None)
    fit.add_argument("--holdout-end", type=date.fromisoformat, default=None)
    fit.add_argument("--horizon-months", type=int, default=12)
    fit.add_argument("--discount-rate", type=float, default=0.01, help="per month")
    fit.add_argument("--json", action="store_true", help="print the card as JSON")
    args = parser.parse_args(argv)
    if args.holdout_end is not None and args.holdout_end <= args.calibration_end:
        parser.error("--holdout-end must be after --calibration-end")
    config = RunConfig(
        calibration_end=args.calibration_end,
        time_unit=args.time_unit,
        horizon_months=args.horizon_months,
        monthly_discount_rate=args.discount_rate,
        acquired_from=args.acquired_from,
        holdout_end=args.holdout_end,
    )
    try:
        tx = read_transactions(args.csv)
        outcome = compute_run(tx, config)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results = results_of(outcome)
    if args.json:
        print(json.dumps({**results, "timings": outcome.timings}, indent=2, default=str))
    else:
        print(format_card(results, config, outcome.timings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
