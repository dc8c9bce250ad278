"""Consents: what a customer allowed, derived from the append-only history of records.

A *consent* is one (purpose, partner, partner purpose): ``email_marketing``,
``sms_marketing``, ``phone_marketing`` and ``profiling`` have no partner;
``partner_sharing`` always names a partner and what the partner may use the data for.
Each grant or withdrawal is a *record*; records are never changed (erasure only clears
their evidence) so they remain proof of what was allowed when.

- **Current state** of a consent = its latest record by ``(occurred_at, seq)`` — the
  customer's most recent expression of will, ties broken by recording order. A consent
  without records was never given: treat it as not granted.
- **Recording** a status equal to the current one changes nothing: no record, no event
  (a re-submitted web form must not look like a new grant). The first record of a consent
  is always kept, a withdrawal too: an explicit refusal is worth proving.
- A record **older** than the current one (``occurred_at`` before it) is refused: it
  would rewrite history behind the state others already acted on.
- After a **merge** both histories belong to the survivor and the same rule derives its
  state; the consents whose state changed for the survivor are announced again.

Pure functions over records that have ``purpose``, ``partner_id``, ``partner_purpose``,
``status``, ``occurred_at`` and ``seq`` attributes (table rows or test doubles).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Literal, Protocol, TypeVar

__all__ = [
    "PARTNER_PURPOSE",
    "ConsentKey",
    "OutOfOrder",
    "check_consent",
    "consent_key",
    "current_states",
    "decide",
    "changed_states",
    "CLOCK_SKEW",
]

PARTNER_PURPOSE = "partner_sharing"
CLOCK_SKEW = timedelta(minutes=5)  # how far in the future an occurred_at may lie (clocks differ)

ConsentKey = tuple[str, str | None, str | None]


class Record(Protocol):
    purpose: str
    partner_id: str | None
    partner_purpose: str | None
    status: str
    occurred_at: datetime
    seq: int


R = TypeVar("R", bound=Record)


class OutOfOrder(ValueError):
    """A record that happened before the consent's current record."""

    def __init__(self, current_occurred_at: datetime) -> None:
        super().__init__(
            f"the consent's current record occurred at {current_occurred_at.isoformat()}, later than this one"
        )
        self.current_occurred_at = current_occurred_at


def check_consent(
    purpose: str, partner_id: str | None, partner_purpose: str | None, occurred_at: datetime | None, *, now: datetime
) -> list[tuple[str, str]]:
    """The problems of a consent change as ``(field, message)`` pairs; empty when valid."""
    errors: list[tuple[str, str]] = []
    for name, value in (("partner_id", partner_id), ("partner_purpose", partner_purpose)):
        if purpose == PARTNER_PURPOSE and value is None:
            errors.append((name, "required when purpose is partner_sharing"))
        elif purpose != PARTNER_PURPOSE and value is not None:
            errors.append((name, "only allowed when purpose is partner_sharing"))
    if occurred_at is not None and occurred_at > now + CLOCK_SKEW:
        errors.append(("occurred_at", "cannot be in the future"))
    return errors


def consent_key(record: Record) -> ConsentKey:
    return (record.purpose, record.partner_id, record.partner_purpose)


def current_states(records: Iterable[R]) -> dict[ConsentKey, R]:
    """The current record of each consent: the latest by ``(occurred_at, seq)``."""
    current: dict[ConsentKey, R] = {}
    for record in records:
        key = consent_key(record)
        known = current.get(key)
        if known is None or (record.occurred_at, record.seq) > (known.occurred_at, known.seq):
            current[key] = record
    return current


def decide(current: Record | None, status: str, occurred_at: datetime) -> Literal["record", "unchanged"]:
    """Whether a new ``status`` at ``occurred_at`` is recorded, given the consent's current record.

    Raises :class:`OutOfOrder` for a change older than the current record.
    """
    if current is None:
        return "record"
    if occurred_at < current.occurred_at:
        raise OutOfOrder(current.occurred_at)
    return "unchanged" if current.status == status else "record"


def changed_states(before: Mapping[ConsentKey, Record], after: Mapping[ConsentKey, R]) -> list[R]:
    """The current records of ``after`` whose status differs from ``before`` (or that are new)."""
    return [record for key, record in after.items() if key not in before or before[key].status != record.status]
