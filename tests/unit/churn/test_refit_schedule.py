"""When the scheduled refit is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from relacja_churn.app.runs import refit_due

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def test_due_once_the_newest_run_is_older_than_the_interval() -> None:
    assert refit_due(NOW - timedelta(days=1), NOW, 86_400)
    assert not refit_due(NOW - timedelta(hours=23), NOW, 86_400)


def test_never_without_a_run_or_with_the_schedule_off() -> None:
    assert not refit_due(None, NOW, 86_400)  # the first model is created through the API
    assert not refit_due(NOW - timedelta(days=30), NOW, 0)
