"""What partners' contributions become in the customer master (``domain/contributions.py``): pure, no I/O."""

from __future__ import annotations

import uuid

from relacja_customers.domain.contributions import (
    interaction_subject,
    lead_fields,
    lead_note_body,
    partner_source,
)


def test_what_a_contribution_becomes_in_the_customer_master() -> None:
    partner, agreement, contribution = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert interaction_subject("delivery_attempt", "Szybka Paczka") == "Delivery attempt — Szybka Paczka"
    assert len(interaction_subject("call", "P" * 1000)) == 500
    source = partner_source(
        partner_id=partner, partner_name="P", agreement_id=agreement, contribution_id=contribution, activity="call"
    )
    assert source == {
        "type": "partner",
        "partner_id": str(partner),
        "partner_name": "P",
        "agreement_id": str(agreement),
        "contribution_id": str(contribution),
        "activity": "call",
    }
    assert lead_fields("Jan", "jan@example.com", None, "Huta") == {
        "display_name": "Jan",
        "email": "jan@example.com",
        "phone": None,
        "lifecycle_stage": "lead",
        "custom_attributes": {"company": {"type": "string", "value": "Huta"}},
    }
    assert "custom_attributes" not in lead_fields("Jan", None, None, None)
    lead = {"name": "Jan", "email": "jan@example.com", "phone": None, "company": None, "note": "Quote"}
    assert lead_note_body(lead, duplicate=False) == "Quote"
    assert lead_note_body(lead, duplicate=True) == "name: Jan\nemail: jan@example.com\nQuote"
    assert lead_note_body({"name": "Jan", "note": None}, duplicate=False) is None
