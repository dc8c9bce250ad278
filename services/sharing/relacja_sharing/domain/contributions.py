"""Inbound contributions: what a partner may post, under which agreement (issue #13 part 7).

A partner contributes under one of its agreements whose ``direction`` is ``inbound`` or
``both`` and which is in force (status ``active``, inside its validity window). Two types:

    type          event it becomes                          required fields
    interaction   relacja.sharing.interaction.contributed.v1   customer_ref, kind, channel, direction, occurred_at
    lead          relacja.sharing.lead.contributed.v1          name

The agreement's ``allowed_fields`` says what the partner may send, as it says what the
partner may see: keyed by the event type above, the optional fields allowed (``summary``,
``duration_seconds``, ``external_reference`` for an interaction; ``email``, ``phone``,
``company``, ``note``, ``external_reference`` for a lead). A type the agreement does not
name is refused (field ``type``); an optional field it does not list is refused, naming
the field. The required fields come with the type.

An interaction is about a customer the partner was given, named by the identifier it was
given (``customer_ref``: the pseudonym, id or e-mail its agreement disclosed); anything
else — a customer never disclosed to this partner, another partner's pseudonym, an erased
customer — is the same "unknown customer reference", so the answer tells nothing about
customers the partner does not know. Only a contact that happened may be reported: an
``occurred_at`` later than now (beyond a clock skew) is refused.

Pure functions; no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Literal

from relacja_contracts.events import PartnerInteractionContributedV1, PartnerLeadContributedV1

__all__ = [
    "CLOCK_SKEW",
    "CONTRIBUTION_EVENT_TYPES",
    "CONTRIBUTION_TYPES",
    "INBOUND_DIRECTIONS",
    "OPTIONAL_FIELDS",
    "REQUIRED_FIELDS",
    "ContributionType",
    "FieldError",
    "check_fields",
    "check_occurred_at",
    "contribution_field_names",
    "takes_contributions",
]

ContributionType = Literal["interaction", "lead"]
CONTRIBUTION_TYPES: tuple[ContributionType, ...] = ("interaction", "lead")

CONTRIBUTION_EVENT_TYPES: Mapping[ContributionType, str] = {
    "interaction": PartnerInteractionContributedV1.event_type,
    "lead": PartnerLeadContributedV1.event_type,
}

REQUIRED_FIELDS: Mapping[ContributionType, tuple[str, ...]] = {
    "interaction": ("customer_ref", "kind", "channel", "direction", "occurred_at"),
    "lead": ("name",),
}
OPTIONAL_FIELDS: Mapping[ContributionType, tuple[str, ...]] = {
    "interaction": ("summary", "duration_seconds", "external_reference"),
    "lead": ("email", "phone", "company", "note", "external_reference"),
}

INBOUND_DIRECTIONS = frozenset({"inbound", "both"})

CLOCK_SKEW = timedelta(minutes=5)

#: ``(field, message)``; the API names the field as ``body.<field>``.
FieldError = tuple[str, str]


def takes_contributions(direction: str) -> bool:
    return direction in INBOUND_DIRECTIONS


def contribution_field_names(event_type: str) -> tuple[str, ...] | None:
    """The fields an agreement may list for a contribution event type (None: not a contribution type)."""
    for kind, known in CONTRIBUTION_EVENT_TYPES.items():
        if known == event_type:
            return REQUIRED_FIELDS[kind] + OPTIONAL_FIELDS[kind]
    return None


def check_fields(
    kind: ContributionType, sent: Iterable[str], allowed_fields: Mapping[str, Sequence[str]]
) -> list[FieldError]:
    """What the agreement does not allow of a contribution of ``kind`` that sets ``sent``."""
    allowed = allowed_fields.get(CONTRIBUTION_EVENT_TYPES[kind])
    if allowed is None:
        return [("type", f"the agreement does not allow {kind} contributions")]
    permitted = set(REQUIRED_FIELDS[kind]) | set(allowed)
    return [
        (name, "not allowed by the agreement")
        for name in sorted(set(sent) & set(OPTIONAL_FIELDS[kind]))
        if name not in permitted
    ]


def check_occurred_at(occurred_at: datetime, now: datetime) -> list[FieldError]:
    if occurred_at > now + CLOCK_SKEW:
        return [("occurred_at", "cannot be in the future")]
    return []
