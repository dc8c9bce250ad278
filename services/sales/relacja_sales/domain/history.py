"""Pipeline reports from the stage history: conversion between stages, stage age, cycle
time, win rate and loss reasons — over plain data, so each figure is unit-tested.

A deal's history is the list of its stage entries (stage id, when it entered). From it:

    conversion(a → b)   of the deals that ever entered stage a, the share that later entered
                        stage b (b after a in the pipeline's order), in percent
    stage age           how long deals stayed in a stage (left − entered; still open: now −
                        entered), averaged per stage, in seconds
    cycle time          closed_at − created_at of closed deals, averaged, in seconds
    win rate            won / (won + lost), in percent; None with no closed deal

Rates are rounded to 0.01 % (ROUND_HALF_UP); durations to whole seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["StageEntry", "percent", "stage_ages", "conversions", "mean_seconds", "win_rate"]


@dataclass(frozen=True)
class StageEntry:
    opportunity_id: object
    stage_id: object
    entered_at: datetime
    left_at: datetime | None


def percent(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def stage_ages(entries: Iterable[StageEntry], now: datetime) -> dict[object, int]:
    """Average seconds per stage over every stay in it (an open stay counts until ``now``)."""
    totals: dict[object, float] = {}
    counts: dict[object, int] = {}
    for entry in entries:
        seconds = ((entry.left_at or now) - entry.entered_at).total_seconds()
        totals[entry.stage_id] = totals.get(entry.stage_id, 0.0) + max(seconds, 0.0)
        counts[entry.stage_id] = counts.get(entry.stage_id, 0) + 1
    return {stage: round(totals[stage] / counts[stage]) for stage in totals}


def conversions(entries: Iterable[StageEntry], order: Sequence[object]) -> list[tuple[object, object, Decimal | None]]:
    """For each pair of consecutive stages in ``order``: (from, to, percent of deals that entered
    ``from`` and later entered ``to`` or any stage after it)."""
    position = {stage: index for index, stage in enumerate(order)}
    reached: dict[object, int] = {}  # deal → furthest position reached
    entered: dict[object, set[object]] = {}
    for entry in entries:
        if entry.stage_id not in position:
            continue
        entered.setdefault(entry.stage_id, set()).add(entry.opportunity_id)
        furthest = reached.get(entry.opportunity_id, -1)
        reached[entry.opportunity_id] = max(furthest, position[entry.stage_id])
    result = []
    for index in range(len(order) - 1):
        source, target = order[index], order[index + 1]
        deals = entered.get(source, set())
        moved_on = sum(1 for deal in deals if reached[deal] > index)
        result.append((source, target, percent(moved_on, len(deals))))
    return result


def mean_seconds(spans: Iterable[tuple[datetime, datetime]]) -> int | None:
    values = [(end - start).total_seconds() for start, end in spans]
    return round(sum(values) / len(values)) if values else None


def win_rate(counts: Mapping[str, int]) -> Decimal | None:
    won, lost = counts.get("won", 0), counts.get("lost", 0)
    return percent(won, won + lost)
