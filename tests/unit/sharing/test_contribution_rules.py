"""The rules of inbound contributions (``relacja_sharing.domain.contributions``) and the
agreement terms that name them: pure, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from relacja_contracts.events import PartnerInteractionContributedV1, PartnerLeadContributedV1
from relacja_sharing.app.catalog import CATALOG, TERMS_CATALOG
from relacja_sharing.domain.agreements import check_terms
from relacja_sharing.domain.contributions import (
    CLOCK_SKEW,
    OPTIONAL_FIELDS,
    REQUIRED_FIELDS,
    check_fields,
    check_occurred_at,
    contribution_field_names,
    takes_contributions,
)

INTERACTION = PartnerInteractionContributedV1.event_type
LEAD = PartnerLeadContributedV1.event_type
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("direction", "takes"), [("inbound", True), ("both", True), ("outbound", False)])
def test_only_inbound_agreements_take_contributions(direction: str, takes: bool) -> None:
    assert takes_contributions(direction) is takes


def test_a_type_the_agreement_does_not_name_is_refused_on_the_type() -> None:
    assert check_fields("lead", ["name"], {INTERACTION: ["summary"]}) == [
        ("type", "the agreement does not allow lead contributions")
    ]


def test_required_fields_come_with_the_type_and_optional_ones_must_be_listed() -> None:
    allowed = {INTERACTION: ["summary"]}
    sent = ["customer_ref", "kind", "channel", "direction", "occurred_at", "summary"]
    assert check_fields("interaction", sent, allowed) == []
    assert check_fields("interaction", [*sent, "duration_seconds", "external_reference"], allowed) == [
        ("duration_seconds", "not allowed by the agreement"),
        ("external_reference", "not allowed by the agreement"),
    ]
    assert check_fields("lead", ["name", "email"], {LEAD: []}) == [("email", "not allowed by the agreement")]


def test_only_what_happened_may_be_reported() -> None:
    assert check_occurred_at(NOW + CLOCK_SKEW, NOW) == []
    assert check_occurred_at(NOW - timedelta(days=400), NOW) == []
    assert check_occurred_at(NOW + CLOCK_SKEW + timedelta(seconds=1), NOW) == [
        ("occurred_at", "cannot be in the future")
    ]


def test_agreement_terms_may_name_the_contribution_types_and_their_fields() -> None:
    assert contribution_field_names(INTERACTION) == REQUIRED_FIELDS["interaction"] + OPTIONAL_FIELDS["interaction"]
    assert contribution_field_names("relacja.orders.order.placed.v1") is None
    assert INTERACTION not in CATALOG  # nothing partners send is fanned out to partners
    valid_from = NOW
    assert check_terms({INTERACTION: ["summary"], LEAD: ["email", "note"]}, TERMS_CATALOG, valid_from, None) == []
    assert check_terms({LEAD: ["shoe_size"]}, TERMS_CATALOG, valid_from, None) == [
        {"field": f"body.allowed_fields.{LEAD}", "message": f"{LEAD} has no field shoe_size"}
    ]
