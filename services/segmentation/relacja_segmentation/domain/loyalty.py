"""The loyalty matrix after Reinartz & Kumar ("The mismanagement of customer loyalty",
HBR 2002): profitability × loyalty gives four quadrants that need different treatment.

How each axis is measured here (documented in docs/segmentation.md as well):

    profitable  the customer's margin (net revenue − cost of goods kept, summed over
                purchases; orders without a known cost add nothing) is positive and at
                least the median margin of all customers with a purchase
    loyal       a long-lived, still active relationship: at least ``min_purchases``
                purchase days (default 2) and the last purchase no more than
                ``max_recency_days`` (default 365) before the reference date
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["QUADRANTS", "QUADRANT_INFO", "LoyaltyParams", "quadrant_codes", "quadrant_of", "profit_threshold"]

QUADRANTS = ("true_friends", "butterflies", "barnacles", "strangers")

QUADRANT_INFO: dict[str, dict[str, str]] = {
    "true_friends": {
        "label": "True friends",
        "measurement": "Profitable (margin ≥ median margin and > 0) and loyal (repeat buyer, active within the loyalty window).",
        "treatment": "Reward and nurture: recognise them, communicate consistently but not too often, "
        "build attitudinal loyalty (loyalty programme tiers, early access, referrals).",
    },
    "butterflies": {
        "label": "Butterflies",
        "measurement": "Profitable but not loyal: a high margin from few or lapsed purchases.",
        "treatment": "Milk the transaction while it lasts: time-limited offers when they buy; "
        "do not invest in loyalty programmes, stop spending once they stop buying.",
    },
    "barnacles": {
        "label": "Barnacles",
        "measurement": "Loyal but not profitable: buys repeatedly, margin below the median.",
        "treatment": "Find out whether the wallet is small or the share of wallet is: up-sell and cross-sell "
        "to a large wallet, cut the cost to serve (cheaper channels) for a small one.",
    },
    "strangers": {
        "label": "Strangers",
        "measurement": "Neither profitable nor loyal.",
        "treatment": "Do not invest: make every transaction profitable, no retention spending.",
    },
}


@dataclass(frozen=True)
class LoyaltyParams:
    min_purchases: int = 2
    max_recency_days: int = 365


def profit_threshold(margin: np.ndarray) -> int:
    """The median margin (integer units; the lower middle value for an even count, so it is a real customer's)."""
    margin = np.asarray(margin, dtype=np.int64)
    if len(margin) == 0:
        return 0
    ordered = np.sort(margin)
    return int(ordered[(len(ordered) - 1) // 2])


def quadrant_codes(
    margin: np.ndarray,
    purchases: np.ndarray,
    recency_days: np.ndarray,
    threshold: int,
    params: LoyaltyParams = LoyaltyParams(),
) -> np.ndarray:
    """Codes (indexes into QUADRANTS) for arrays of integer margins, purchase days and recency in days."""
    margin = np.asarray(margin, dtype=np.int64)
    profitable = (margin > 0) & (margin >= threshold)
    loyal = (np.asarray(purchases) >= params.min_purchases) & (np.asarray(recency_days) <= params.max_recency_days)
    return np.select([profitable & loyal, profitable & ~loyal, ~profitable & loyal], [0, 1, 2], default=3).astype(
        np.int16
    )


def quadrant_of(
    margin: int, purchases: int, recency_days: int, threshold: int, params: LoyaltyParams = LoyaltyParams()
) -> str:
    code = quadrant_codes(np.array([margin]), np.array([purchases]), np.array([recency_days]), threshold, params)[0]
    return QUADRANTS[int(code)]
