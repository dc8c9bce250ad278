"""The CloudEvents envelope and its Kafka binding."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from relacja_contracts import CloudEvent, from_kafka_headers, to_kafka_headers
from relacja_contracts.envelope import EnvelopeError
from relacja_contracts.events import CustomerRegisteredV1


def _payload() -> CustomerRegisteredV1:
    return CustomerRegisteredV1(
        customer_id=uuid.uuid4(),
        kind="person",
        display_name="Anna Kowalska",
        email="anna@example.com",
        lifecycle_stage="lead",
        registered_at=datetime(2026, 11, 22, 12, 0, tzinfo=UTC),
    )


def test_envelope_for_payload_uses_type_and_customer_as_subject() -> None:
    payload = _payload()
    event = CloudEvent.for_payload(
        payload, source="/relacja/customers", traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    )
    assert event.type == "relacja.customers.customer.registered.v1"
    assert event.subject == str(payload.customer_id)
    assert uuid.UUID(event.id)
    assert event.time.tzinfo is not None


def test_kafka_headers_round_trip_in_binary_mode() -> None:
    event = CloudEvent.for_payload(
        _payload(), source="/relacja/customers", traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    )
    headers = to_kafka_headers(event)
    names = [name for name, _ in headers]
    assert names[:6] == ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time"]
    assert ("content-type", b"application/json") in headers
    assert dict(headers)["ce_time"].endswith(b"Z")
    assert from_kafka_headers(headers) == event


def test_headers_without_traceparent_are_still_valid() -> None:
    event = CloudEvent.for_payload(_payload(), source="/relacja/customers")
    headers = to_kafka_headers(event)
    assert "traceparent" not in dict(headers)
    assert from_kafka_headers(headers).traceparent is None


@pytest.mark.parametrize("missing", ["ce_id", "ce_type", "ce_source", "ce_specversion"])
def test_missing_required_attribute_is_rejected(missing: str) -> None:
    headers = [(n, v) for n, v in to_kafka_headers(CloudEvent.for_payload(_payload(), source="/x")) if n != missing]
    with pytest.raises(EnvelopeError, match=missing):
        from_kafka_headers(headers)


def test_other_spec_version_is_rejected() -> None:
    headers = [
        (n, b"0.3" if n == "ce_specversion" else v)
        for n, v in to_kafka_headers(CloudEvent.for_payload(_payload(), source="/x"))
    ]
    with pytest.raises(EnvelopeError, match="specversion"):
        from_kafka_headers(headers)


def test_payloads_are_frozen_and_ignore_unknown_fields() -> None:
    payload = _payload()
    with pytest.raises(ValidationError, match="frozen"):
        payload.display_name = "changed"  # type: ignore[misc]  # assigning to a frozen model is the point of the test
    newer = payload.model_dump(mode="json") | {"field_added_in_a_later_version": 1}
    assert CustomerRegisteredV1.model_validate(newer) == payload


def test_event_type_names_are_versioned() -> None:
    from relacja_contracts.base import EventPayload

    with pytest.raises(TypeError, match="relacja"):

        class BadlyNamed(EventPayload):
            event_type = "customer_registered"
