"""Uplift of a campaign: treated vs control (holdout), with confidence intervals.

Both groups are counted as assigned (intention to treat): the treated group is everyone
drawn into it, whether or not their message was suppressed later, so the comparison keeps
the randomisation. For each group: ``n`` customers, ``conversions`` (customers with at
least one order in the window), and the sum and sum of squares of each customer's revenue
in the window (customers without orders count 0).

Conversion: difference of proportions with the unpooled (Wald) standard error
``sqrt(p_t(1-p_t)/n_t + p_c(1-p_c)/n_c)``. Revenue per customer: difference of means with
Welch's standard error ``sqrt(s_t²/n_t + s_c²/n_c)`` (sample variances). Both intervals
use the normal quantile (two-sided, 95 % by default): audiences are large.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from statistics import NormalDist

__all__ = ["GroupStats", "Interval", "Uplift", "uplift"]


@dataclass(frozen=True)
class GroupStats:
    n: int
    conversions: int
    revenue_sum: Decimal
    revenue_sum_sq: Decimal

    @property
    def conversion_rate(self) -> float | None:
        return self.conversions / self.n if self.n else None

    @property
    def revenue_per_customer(self) -> float | None:
        return float(self.revenue_sum) / self.n if self.n else None

    @property
    def revenue_variance(self) -> float | None:
        """The sample variance (n - 1) of per-customer revenue."""
        if self.n < 2:
            return None
        mean = float(self.revenue_sum) / self.n
        return max(0.0, (float(self.revenue_sum_sq) - self.n * mean * mean) / (self.n - 1))


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class Uplift:
    confidence: float
    conversion: Interval | None  # treated rate - control rate
    revenue_per_customer: Interval | None  # treated mean - control mean


def uplift(treated: GroupStats, control: GroupStats, confidence: float = 0.95) -> Uplift:
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    conversion = None
    pt, pc = treated.conversion_rate, control.conversion_rate
    if pt is not None and pc is not None:
        se = math.sqrt(pt * (1 - pt) / treated.n + pc * (1 - pc) / control.n)
        conversion = Interval(pt - pc, pt - pc - z * se, pt - pc + z * se)
    revenue = None
    vt, vc = treated.revenue_variance, control.revenue_variance
    mt, mc = treated.revenue_per_customer, control.revenue_per_customer
    if vt is not None and vc is not None and mt is not None and mc is not None:
        se = math.sqrt(vt / treated.n + vc / control.n)
        revenue = Interval(mt - mc, mt - mc - z * se, mt - mc + z * se)
    return Uplift(confidence=confidence, conversion=conversion, revenue_per_customer=revenue)
