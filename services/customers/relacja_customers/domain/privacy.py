"""Erasure (GDPR Art. 17) by pseudonymisation: what is removed and what is kept.

The record keeps its id, so non-personal aggregates held anywhere under that id (orders
totals, segment, stage counts) stay consistent. Removed: every field that identifies or
describes the person; kept: kind, lifecycle stage, tags, owner (an employee of the
company, not the customer), version and the creation and update times.

Event payloads are scrubbed with the same rule (``scrub_payload``) in the customer's
event log and in the outbox rows still retained for replay.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ERASED", "ERASED_FIELDS", "PERSONAL_PAYLOAD_FIELDS", "erased_fields", "scrub_payload"]

ERASED = "erased"

# Field → the value it has after erasure.
ERASED_FIELDS: dict[str, Any] = {
    "display_name": ERASED,
    "given_name": None,
    "family_name": None,
    "legal_name": None,
    "email": None,
    "phone": None,
    "addresses": [],
    "preferred_language": None,
    "birth_date": None,
    "external_id": None,
    "company_id": None,  # a person's employer is personal data too
    "custom_attributes": {},
}

# Keys of event payloads (any type of this service) that carry personal data, and what
# they become. An area that puts another personal field into an event adds it here.
PERSONAL_PAYLOAD_FIELDS: dict[str, Any] = {
    "display_name": ERASED,
    "given_name": ERASED,
    "family_name": ERASED,
    "legal_name": ERASED,
    "email": None,
    "phone": None,
    "external_id": None,
    "birth_date": None,
    "addresses": [],
    "custom_attributes": {},
    "label": None,  # ImportantDateUpcomingV1: a date's label may name a person or an occasion
}


def erased_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` with the personal ones replaced; names become ``"erased"`` where there was one."""
    erased = {**fields, **ERASED_FIELDS}
    for name in ("given_name", "family_name", "legal_name"):
        if fields.get(name) is not None:
            erased[name] = ERASED
    return erased


def scrub_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload with every personal key it has replaced (keys it lacks are not added)."""
    return {key: PERSONAL_PAYLOAD_FIELDS.get(key, value) for key, value in payload.items()}
