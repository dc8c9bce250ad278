"""Consent rules: partner fields, current state = latest record, no-op, out of order, merge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from relacja_customers.domain.consents import (
    CLOCK_SKEW,
    OutOfOrder,
    changed_states,
    check_consent,
    current_states,
    decide,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


# Not frozen: the domain's Record protocol declares plain (settable) attributes, like the
# ORM rows it stands for, and a frozen dataclass's read-only fields do not satisfy it.
@dataclass
class Rec:
    purpose: str
    status: str
    occurred_at: datetime
    seq: int
    partner_id: str | None = None
    partner_purpose: str | None = None


def test_partner_sharing_needs_partner_and_purpose() -> None:
    assert check_consent("partner_sharing", "dhl", "delivery", None, now=T0) == []
    assert [f for f, _ in check_consent("partner_sharing", None, None, None, now=T0)] == [
        "partner_id",
        "partner_purpose",
    ]
    assert [f for f, _ in check_consent("partner_sharing", "dhl", None, None, now=T0)] == ["partner_purpose"]


def test_other_purposes_refuse_partner_fields() -> None:
    assert check_consent("email_marketing", None, None, None, now=T0) == []
    assert [f for f, _ in check_consent("email_marketing", "dhl", None, None, now=T0)] == ["partner_id"]
    assert [f for f, _ in check_consent("profiling", None, "ads", None, now=T0)] == ["partner_purpose"]


def test_occurred_at_may_not_lie_in_the_future_beyond_clock_skew() -> None:
    assert check_consent("profiling", None, None, T0 + CLOCK_SKEW, now=T0) == []
    assert [f for f, _ in check_consent("profiling", None, None, T0 + CLOCK_SKEW + timedelta(seconds=1), now=T0)] == [
        "occurred_at"
    ]


def test_current_state_is_the_latest_record_by_time_then_recording_order() -> None:
    records = [
        Rec("email_marketing", "granted", T0, 1),
        Rec("email_marketing", "withdrawn", T0 + timedelta(days=1), 2),
        Rec("email_marketing", "granted", T0 + timedelta(hours=1), 3),  # recorded later, happened earlier
        Rec("sms_marketing", "granted", T0, 4),
        Rec("sms_marketing", "withdrawn", T0, 5),  # same instant: recording order decides
    ]
    current = current_states(records)
    assert current[("email_marketing", None, None)].seq == 2
    assert current[("sms_marketing", None, None)].seq == 5


def test_each_partner_and_partner_purpose_is_its_own_consent() -> None:
    records = [
        Rec("partner_sharing", "granted", T0, 1, "dhl", "delivery"),
        Rec("partner_sharing", "withdrawn", T0, 2, "dhl", "marketing"),
        Rec("partner_sharing", "granted", T0, 3, "ups", "delivery"),
    ]
    assert {key: r.status for key, r in current_states(records).items()} == {
        ("partner_sharing", "dhl", "delivery"): "granted",
        ("partner_sharing", "dhl", "marketing"): "withdrawn",
        ("partner_sharing", "ups", "delivery"): "granted",
    }


def test_decide() -> None:
    current = Rec("profiling", "granted", T0, 1)
    assert decide(None, "granted", T0) == "record"
    assert decide(None, "withdrawn", T0) == "record"  # an explicit refusal is kept
    assert decide(current, "granted", T0 + timedelta(days=1)) == "unchanged"
    assert decide(current, "withdrawn", T0 + timedelta(days=1)) == "record"
    assert decide(current, "withdrawn", T0) == "record"  # same instant, later recording wins
    with pytest.raises(OutOfOrder) as raised:
        decide(current, "withdrawn", T0 - timedelta(seconds=1))
    assert raised.value.current_occurred_at == T0


def test_changed_states_after_a_merge() -> None:
    survivor = [Rec("email_marketing", "granted", T0, 1), Rec("profiling", "granted", T0, 2)]
    merged = [
        Rec("email_marketing", "withdrawn", T0 + timedelta(days=1), 3),  # later: wins
        Rec("profiling", "withdrawn", T0 - timedelta(days=1), 4),  # earlier: loses
        Rec("sms_marketing", "granted", T0, 5),  # new to the survivor
    ]
    before = current_states(survivor)
    after = current_states(survivor + merged)
    assert sorted(r.seq for r in changed_states(before, after)) == [3, 5]
    assert changed_states(before, before) == []
