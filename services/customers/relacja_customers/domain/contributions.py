"""What partners' contributions (``relacja.sharing``) become in the customer master.

- A contributed **interaction** is an interaction of the customer like one staff logged:
  its channel and direction as the partner gave them, the partner's summary as the body,
  a subject naming the activity and the partner ("Delivery attempt — Acme Logistics"),
  and a ``source`` naming the partner. Its id is the contribution id.
- A contributed **lead** is a new person in stage ``lead`` with the partner as its
  source; the company the prospect works for is kept as the custom attribute
  ``company`` (the lead has no company record to link to). What the partner wrote about
  the prospect becomes a note on its timeline (id: the contribution id).
- A lead whose e-mail or phone another customer already has is that customer: no second
  record is made (the e-mail and phone are unique keys); the lead becomes a note on the
  existing customer and the lead's id is announced as merged into it.

Pure functions; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

__all__ = [
    "LEAD_COMPANY_ATTRIBUTE",
    "interaction_subject",
    "lead_fields",
    "lead_note_body",
    "lead_note_subject",
    "partner_source",
]

LEAD_COMPANY_ATTRIBUTE = "company"

_SUBJECT_MAX = 500


def partner_source(
    *, partner_id: UUID, partner_name: str, agreement_id: UUID, contribution_id: UUID, activity: str | None = None
) -> dict[str, Any]:
    """The ``source`` column of a contributed record (JSON)."""
    source: dict[str, Any] = {
        "type": "partner",
        "partner_id": str(partner_id),
        "partner_name": partner_name,
        "agreement_id": str(agreement_id),
        "contribution_id": str(contribution_id),
    }
    if activity is not None:
        source["activity"] = activity
    return source


def _label(kind: str) -> str:
    return kind.replace("_", " ").capitalize()


def interaction_subject(kind: str, partner_name: str) -> str:
    """``Delivery attempt — Acme Logistics``: what happened and who reported it."""
    return f"{_label(kind)} — {partner_name}"[:_SUBJECT_MAX]


def lead_note_subject(partner_name: str) -> str:
    return f"Lead registered by {partner_name}"[:_SUBJECT_MAX]


def lead_note_body(lead: Mapping[str, Any], *, duplicate: bool) -> str | None:
    """The note's text: the partner's note; for a lead that matched an existing customer,
    also the contact data the partner gave (the record itself is not changed)."""
    lines = []
    if duplicate:
        lines += [f"{name}: {lead[name]}" for name in ("name", "email", "phone", "company") if lead.get(name)]
    if lead.get("note"):
        lines.append(lead["note"])
    return "\n".join(lines) or None


def lead_fields(name: str, email: str | None, phone: str | None, company: str | None) -> dict[str, Any]:
    """The changes that make a new person record of a lead (``apply_changes`` input)."""
    changes: dict[str, Any] = {"display_name": name, "email": email, "phone": phone, "lifecycle_stage": "lead"}
    if company:
        changes["custom_attributes"] = {LEAD_COMPANY_ATTRIBUTE: {"type": "string", "value": company}}
    return changes
