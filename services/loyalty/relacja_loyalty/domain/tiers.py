"""Tiers: which tier a member's qualifying value reaches, and when a change takes effect.

The qualifying value is points or spend in a rolling window (``docs/loyalty.md``): the
use case sums it; here it is a number. Evaluation is deterministic — the same value, state
and time always give the same answer — and runs on every ledger change and daily:

    value reaches a higher tier          upgrade at once
    value still reaches the current one  stay (requalified); a running grace period ends
    value falls below the current tier   the grace period starts (``below_since``); when it
                                         has lasted ``grace``, downgrade to what the value reaches
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

__all__ = ["Tier", "TierProgress", "TierState", "evaluate_tier", "progress", "qualifying_tier", "tier_multiplier"]


@dataclass(frozen=True)
class Tier:
    name: str
    threshold: Decimal
    multiplier: Decimal = Decimal(1)


@dataclass(frozen=True)
class TierState:
    tier: str | None
    below_since: datetime | None = None


@dataclass(frozen=True)
class TierProgress:
    next_tier: str | None
    missing: Decimal | None  # what the value still lacks to reach next_tier


def _rank(tiers: Sequence[Tier], name: str | None) -> int:
    """0 for no tier; the 1-based position by threshold otherwise (an unknown name ranks 0)."""
    ordered = sorted(tiers, key=lambda tier: tier.threshold)
    return next((index + 1 for index, tier in enumerate(ordered) if tier.name == name), 0)


def qualifying_tier(tiers: Sequence[Tier], value: Decimal) -> Tier | None:
    reached = [tier for tier in tiers if value >= tier.threshold]
    return max(reached, key=lambda tier: tier.threshold) if reached else None


def tier_multiplier(tiers: Sequence[Tier], name: str | None) -> Decimal:
    return next((tier.multiplier for tier in tiers if tier.name == name), Decimal(1))


def evaluate_tier(
    tiers: Sequence[Tier], current: TierState, value: Decimal, now: datetime, grace: timedelta
) -> TierState:
    reached = qualifying_tier(tiers, value)
    reached_name = reached.name if reached else None
    if _rank(tiers, reached_name) >= _rank(tiers, current.tier):
        return TierState(reached_name)
    if current.below_since is None:
        return TierState(current.tier, now)
    if now - current.below_since >= grace:
        return TierState(reached_name)
    return current


def progress(tiers: Sequence[Tier], current: str | None, value: Decimal) -> TierProgress:
    """The next tier above the current one and what the value lacks to reach it."""
    rank = _rank(tiers, current)
    ordered = sorted(tiers, key=lambda tier: tier.threshold)
    if rank >= len(ordered):
        return TierProgress(None, None)
    following = ordered[rank]
    return TierProgress(following.name, max(Decimal(0), following.threshold - value))
