"""The agreement: its state machine, its terms' rules, and what a partner may see.

    draft ──activate──▶ active ──suspend──▶ suspended
                          ▲                    │
                          └───────resume───────┘
    draft | active | suspended ──terminate──▶ terminated   (final)

Every change — of the terms or of the state — makes a new version (recorded with every
disclosure). Terms: purposes, direction, legal basis, per event type the payload fields
the partner may see (an allow-list: everything else is dropped), the identifier the
partner sees, a validity window and the smallest group an aggregate report shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from .states import IllegalTransition

__all__ = [
    "AGREEMENT_TRANSITIONS",
    "AgreementAction",
    "AgreementStatus",
    "Direction",
    "LegalBasis",
    "NEVER_SHARED",
    "check_terms",
    "next_agreement_status",
]

AgreementStatus = Literal["draft", "active", "suspended", "terminated"]
AgreementAction = Literal["activate", "suspend", "resume", "terminate"]
Direction = Literal["outbound", "inbound", "both"]
LegalBasis = Literal["consent", "contract", "legitimate_interest"]

AGREEMENT_TRANSITIONS: Mapping[str, Mapping[str, str]] = {
    "activate": {"draft": "active"},
    "suspend": {"active": "suspended"},
    "resume": {"suspended": "active"},
    "terminate": {"draft": "terminated", "active": "terminated", "suspended": "terminated"},
}

#: Payload fields that hold a customer's real id: the partner sees the customer only
#: through the record's subject (its identifier), so these are never shareable.
NEVER_SHARED = frozenset({"customer_id", "merged_customer_id", "company_id"})


def next_agreement_status(current: str, action: str) -> str:
    moves = AGREEMENT_TRANSITIONS.get(action, {})
    if current not in moves:
        raise IllegalTransition(current, action, AGREEMENT_TRANSITIONS)
    return moves[current]


def check_terms(
    allowed_fields: Mapping[str, list[str]],
    catalog: Mapping[str, frozenset[str]],
    valid_from: datetime,
    valid_until: datetime | None,
) -> list[dict[str, str]]:
    """The problems of an agreement's terms as ``{"field", "message"}``; empty when valid.

    ``catalog``: the shareable event types and the payload fields each carries."""
    errors: list[dict[str, str]] = []
    for event_type, fields in allowed_fields.items():
        where = f"body.allowed_fields.{event_type}"
        known = catalog.get(event_type)
        if known is None:
            errors.append({"field": where, "message": "not an event type the service shares"})
            continue
        for name in fields:
            if name in NEVER_SHARED:
                errors.append({"field": where, "message": f"{name} is never shared (partners see the identifier)"})
            elif name not in known:
                errors.append({"field": where, "message": f"{event_type} has no field {name}"})
    if valid_until is not None and valid_until <= valid_from:
        errors.append({"field": "body.valid_until", "message": "must be later than valid_from"})
    return errors
