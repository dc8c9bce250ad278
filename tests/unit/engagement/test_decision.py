"""The send-time decision: consent, suppression, cap, quiet hours with the deferral time."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from relacja_engagement.domain.decision import Cap, Outcome, SendFacts, decide, quiet_hours_end

WARSAW = ZoneInfo("Europe/Warsaw")
NOON = datetime(2026, 12, 5, 12, 0, tzinfo=WARSAW)

FACTS = SendFacts(
    purpose="marketing",
    customer_active=True,
    address="anna@example.com",
    address_suppressed=False,
    consent=True,
    sent_in_window=0,
    cap=Cap(max_messages=2, window_days=7),
    local_now=NOON,
    quiet_start=time(21, 0),
    quiet_end=time(8, 0),
)


def test_a_consented_marketing_message_at_noon_is_sent() -> None:
    assert decide(FACTS).outcome is Outcome.SEND


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"customer_active": False}, "customer_gone"),
        ({"address": None}, "no_address"),
        ({"address_suppressed": True}, "suppressed_address"),
        ({"consent": None}, "no_consent"),
        ({"consent": False}, "consent_withdrawn"),
        ({"sent_in_window": 2}, "frequency_cap"),
    ],
)
def test_what_suppresses_a_marketing_message(change: dict[str, object], reason: str) -> None:
    decision = decide(replace(FACTS, **change))  # type: ignore[arg-type]
    assert (decision.outcome, decision.reason) == (Outcome.SUPPRESS, reason)


def test_one_below_the_cap_is_sent_and_no_cap_means_unlimited() -> None:
    assert decide(replace(FACTS, sent_in_window=1)).outcome is Outcome.SEND
    assert decide(replace(FACTS, sent_in_window=99, cap=None)).outcome is Outcome.SEND


def test_transactional_needs_no_consent_ignores_cap_and_quiet_hours_but_not_suppression() -> None:
    night = NOON.replace(hour=23)
    transactional = replace(FACTS, purpose="transactional", consent=None, sent_in_window=50, local_now=night)
    assert decide(transactional).outcome is Outcome.SEND
    assert decide(replace(transactional, address_suppressed=True)).reason == "suppressed_address"


def test_inside_overnight_quiet_hours_the_message_is_deferred_until_they_end() -> None:
    late = decide(replace(FACTS, local_now=NOON.replace(hour=23, minute=30)))
    assert late.outcome is Outcome.DEFER and late.reason == "quiet_hours"
    assert late.defer_until == datetime(2026, 12, 6, 8, 0, tzinfo=WARSAW)
    early = decide(replace(FACTS, local_now=NOON.replace(hour=3)))
    assert early.defer_until == datetime(2026, 12, 5, 8, 0, tzinfo=WARSAW)


def test_quiet_hours_edges_and_same_day_windows() -> None:
    assert quiet_hours_end(NOON.replace(hour=21), time(21), time(8)) is not None  # start is inside
    assert quiet_hours_end(NOON.replace(hour=8), time(21), time(8)) is None  # end is outside
    assert quiet_hours_end(NOON, time(12), time(12)) is None  # empty window
    assert quiet_hours_end(NOON, time(11, 59, 50), time(12, 0, 20)) == NOON.replace(second=20)
    assert quiet_hours_end(NOON, None, None) is None


def test_the_deferral_is_an_instant_in_the_customers_zone() -> None:
    tokyo = datetime(2026, 12, 5, 22, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    until = quiet_hours_end(tokyo, time(21), time(8))
    assert until is not None and until.astimezone(ZoneInfo("UTC")) == datetime(
        2026, 12, 5, 23, 0, tzinfo=ZoneInfo("UTC")
    )
