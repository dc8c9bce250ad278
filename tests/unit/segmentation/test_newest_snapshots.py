"""The batch handlers keep the newest snapshot of each order or ticket: the one with the
latest ``occurred_at``; of equal ones the later in offset order, as the one-by-one guard
``stored.occurred_at <= new.occurred_at`` leaves it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from relacja_churn.consumers import newest_snapshots as churn_newest
from relacja_segmentation.consumers import newest_snapshots

T = datetime(2026, 1, 1, tzinfo=UTC)


def snap(order_id: uuid.UUID, minutes: int, label: str) -> Any:
    return SimpleNamespace(order_id=order_id, occurred_at=T + timedelta(minutes=minutes), label=label)


def by_order(snapshots: list[Any]) -> list[Any]:
    return newest_snapshots(snapshots, lambda p: p.order_id)


# segmentation's (any key) and churn's (orders)
PICKERS: tuple[Callable[[list[Any]], list[Any]], ...] = (by_order, churn_newest)


def test_the_newest_snapshot_of_each_order_wins_whatever_the_offset_order() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    batch = [snap(a, 3, "a-delivered"), snap(b, 1, "b-placed"), snap(a, 1, "a-placed"), snap(a, 2, "a-paid")]
    for pick in PICKERS:
        assert sorted(p.label for p in pick(batch)) == ["a-delivered", "b-placed"]


def test_of_equal_times_the_later_record_wins() -> None:
    a = uuid.uuid4()
    batch = [snap(a, 1, "first"), snap(a, 1, "second")]
    for pick in PICKERS:
        assert [p.label for p in pick(batch)] == ["second"]
