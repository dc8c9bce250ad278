"""The sharing service's webhook settings: loopback and plain-http receivers are refused in
production, the schedule and window reach the sender's policy, endpoint states move as the
state machine says."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from relacja_sharing.domain.states import IllegalTransition
from relacja_sharing.domain.webhooks import next_endpoint_status
from relacja_sharing.settings import SharingSettings

PRODUCTION = {
    "environment": "production",
    "database_url": "postgresql+asyncpg://db/relacja_sharing",
    "kafka_bootstrap": "kafka:9092",
}


@pytest.mark.parametrize("switch", ["webhook_allow_loopback", "webhook_allow_http"])
def test_local_receiver_switches_are_refused_in_production(switch: str) -> None:
    with pytest.raises(ValidationError, match="never production"):
        SharingSettings.model_validate({**PRODUCTION, switch: True})
    assert SharingSettings.model_validate({"environment": "test", switch: True}).url_policy() is not None


def test_the_defaults_are_strict_and_the_schedule_is_the_standard_one() -> None:
    settings = SharingSettings.model_validate(PRODUCTION)
    policy = settings.url_policy()
    assert (policy.allow_http, policy.allow_loopback) == (False, False)
    retry = settings.retry_policy()
    assert [d.total_seconds() for d in retry.delays] == [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert (retry.jitter, retry.disable_after) == (0.1, timedelta(days=5))


def test_a_compressed_schedule_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELACJA_SHARING_WEBHOOK_RETRY_SCHEDULE_SECONDS", "[0.005, 0.3]")
    monkeypatch.setenv("RELACJA_SHARING_WEBHOOK_DISABLE_AFTER_HOURS", "0.001")
    retry = SharingSettings().retry_policy()
    assert retry.delays == (timedelta(milliseconds=5), timedelta(milliseconds=300))
    assert retry.disable_after == timedelta(seconds=3.6)


def test_endpoint_states() -> None:
    assert next_endpoint_status("enabled", "disable") == "disabled"
    assert next_endpoint_status("disabled", "enable") == "enabled"
    with pytest.raises(IllegalTransition) as err:
        next_endpoint_status("disabled", "disable")
    assert (err.value.current, err.value.allowed_actions) == ("disabled", ["enable"])
