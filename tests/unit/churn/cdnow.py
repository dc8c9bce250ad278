"""Load the CDNOW transaction log shipped in tests/data/cdnow (taken from the `lifetimes`
0.11.3 wheel, lifetimes/datasets/). Columns: master id, sample id, yyyymmdd, CDs, dollars."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np

CDNOW_DIR = Path(__file__).resolve().parents[2] / "data" / "cdnow"
CALIBRATION_END = date(1997, 9, 30)
HOLDOUT_END = date(1998, 6, 30)


def load_cdnow_sample() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer, day ordinal, amount) arrays, one row per line of the raw log."""
    customers, days, amounts = [], [], []
    for line in (CDNOW_DIR / "CDNOW_sample.txt").read_text().splitlines():
        if not line.strip():
            continue
        _, sample_id, ymd, _cds, dollars = line.split()
        customers.append(int(sample_id))
        days.append(date(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:])).toordinal())
        amounts.append(float(dollars))
    return np.array(customers), np.array(days), np.array(amounts)
