"""The pure delivery rules: schedule and jitter, Retry-After, outcomes, the 5-day disabling on a
fake clock, the token bucket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from relacja_webhooks.schedule import DEFAULT_DELAYS, Outcome, RetryPolicy, classify, parse_retry_after, refill

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def test_the_default_schedule() -> None:
    assert [d.total_seconds() for d in DEFAULT_DELAYS] == [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert RetryPolicy().max_attempts == 8


@pytest.mark.parametrize("draw", [0.0, 0.5, 1.0])
def test_each_retry_is_the_scheduled_delay_within_ten_percent(draw: float) -> None:
    policy = RetryPolicy(random=lambda: draw)
    for failures, delay in enumerate(DEFAULT_DELAYS, start=1):
        at = policy.next_attempt_at(failures, NOW)
        assert at is not None
        expected = delay * (1 + 0.1 * (2 * draw - 1))
        assert at - NOW == expected
        assert delay * 0.9 <= at - NOW <= delay * 1.1


def test_after_the_last_retry_the_message_gives_up() -> None:
    assert RetryPolicy().next_attempt_at(len(DEFAULT_DELAYS) + 1, NOW) is None


def test_compressed_schedules_keep_the_shape() -> None:
    fast = RetryPolicy(random=lambda: 0.5).compressed(0.001)
    assert fast.next_attempt_at(1, NOW) == NOW + timedelta(milliseconds=5)
    assert fast.disable_after == timedelta(days=5) * 0.001


def test_retry_after_moves_the_next_attempt_later_never_earlier_and_is_capped() -> None:
    policy = RetryPolicy(random=lambda: 0.5)
    assert policy.next_attempt_at(1, NOW, timedelta(seconds=60)) == NOW + timedelta(seconds=60)
    assert policy.next_attempt_at(2, NOW, timedelta(seconds=1)) == NOW + timedelta(minutes=5)
    assert policy.next_attempt_at(1, NOW, timedelta(days=30)) == NOW + timedelta(hours=10)


def test_retry_after_is_read_on_429_and_503_only_in_both_forms() -> None:
    assert parse_retry_after(429, "120", NOW) == timedelta(seconds=120)
    assert parse_retry_after(503, format_datetime(NOW + timedelta(minutes=3), usegmt=True), NOW) == timedelta(minutes=3)
    assert parse_retry_after(503, format_datetime(NOW - timedelta(minutes=3), usegmt=True), NOW) == timedelta(0)
    assert parse_retry_after(500, "120", NOW) is None
    assert parse_retry_after(429, "soon", NOW) is None
    assert parse_retry_after(429, None, NOW) is None


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.SUCCEEDED),
        (204, Outcome.SUCCEEDED),
        (299, Outcome.SUCCEEDED),
        (301, Outcome.FAILED),
        (302, Outcome.FAILED),
        (400, Outcome.FAILED),
        (410, Outcome.GONE),
        (429, Outcome.FAILED),
        (500, Outcome.FAILED),
        (None, Outcome.FAILED),
    ],
)
def test_outcomes(status: int | None, outcome: Outcome) -> None:
    assert classify(status) is outcome


def test_an_endpoint_failing_for_five_days_is_disabled_on_a_fake_clock() -> None:
    policy = RetryPolicy()
    since = NOW
    assert not policy.should_disable(None, NOW + timedelta(days=30))
    assert not policy.should_disable(since, since + timedelta(days=4, hours=23, minutes=59))
    assert policy.should_disable(since, since + timedelta(days=5))
    assert RetryPolicy(disable_after=timedelta(hours=1)).should_disable(since, since + timedelta(hours=1))


def test_the_token_bucket_refills_at_the_rate_up_to_one_second() -> None:
    assert refill(0.0, None, 10, NOW) == (10.0, 10)
    assert refill(0.0, NOW, 10, NOW + timedelta(milliseconds=250)) == (2.5, 2)
    assert refill(3.0, NOW, 10, NOW + timedelta(seconds=5)) == (10.0, 10)
    assert refill(0.0, NOW, 10, NOW - timedelta(seconds=1)) == (0.0, 0)
    assert refill(0.0, NOW, None, NOW)[1] >= 1 << 20
