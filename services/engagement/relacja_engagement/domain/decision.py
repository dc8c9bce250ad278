"""The send-time decision: send now, suppress (with the reason) or defer (until when).

Checked when a message is due, not when it was scheduled, so a consent withdrawn, an
address suppressed or a cap reached in between stops it:

    customer erased or merged away        suppress  customer_gone
    no address for the channel            suppress  no_address
    address on the suppression list       suppress  suppressed_address
    marketing without current consent     suppress  no_consent (never given) | consent_withdrawn
    marketing over the channel's cap      suppress  frequency_cap
    marketing inside quiet hours          defer     until the quiet hours end (customer's time zone)
    otherwise                             send

Transactional messages (a receipt, a review request the customer asked for) need no
marketing consent, are not counted against the caps and are not held by quiet hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

__all__ = [
    "CONSENT_PURPOSE",
    "Cap",
    "Decision",
    "Outcome",
    "SendFacts",
    "decide",
    "quiet_hours_end",
]

# The consent each channel's marketing needs (push goes to the customer's phone).
CONSENT_PURPOSE = {"email": "email_marketing", "sms": "sms_marketing", "push": "phone_marketing"}


class Outcome(StrEnum):
    SEND = "send"
    SUPPRESS = "suppress"
    DEFER = "defer"


@dataclass(frozen=True)
class Cap:
    max_messages: int
    window_days: int


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str | None = None
    defer_until: datetime | None = None


@dataclass(frozen=True)
class SendFacts:
    purpose: str  # marketing | transactional
    customer_active: bool
    address: str | None
    address_suppressed: bool
    consent: bool | None  # None: never recorded; False: withdrawn
    sent_in_window: int  # marketing messages of this channel sent within the cap's window
    cap: Cap | None
    local_now: datetime  # aware, in the customer's time zone
    quiet_start: time | None
    quiet_end: time | None


def quiet_hours_end(local_now: datetime, start: time | None, end: time | None) -> datetime | None:
    """When the quiet hours around ``local_now`` end, or None outside them.

    A window may cross midnight (21:00 → 08:00); start == end means no quiet hours.
    """
    if start is None or end is None or start == end:
        return None
    now_t = local_now.timetz().replace(tzinfo=None)
    today_end = local_now.replace(hour=end.hour, minute=end.minute, second=end.second, microsecond=0)
    if start < end:
        return today_end if start <= now_t < end else None
    if now_t >= start:
        return today_end + timedelta(days=1)
    if now_t < end:
        return today_end
    return None


def decide(facts: SendFacts) -> Decision:
    if not facts.customer_active:
        return Decision(Outcome.SUPPRESS, "customer_gone")
    if not facts.address:
        return Decision(Outcome.SUPPRESS, "no_address")
    if facts.address_suppressed:
        return Decision(Outcome.SUPPRESS, "suppressed_address")
    if facts.purpose != "marketing":
        return Decision(Outcome.SEND)
    if facts.consent is None:
        return Decision(Outcome.SUPPRESS, "no_consent")
    if facts.consent is False:
        return Decision(Outcome.SUPPRESS, "consent_withdrawn")
    if facts.cap is not None and facts.sent_in_window >= facts.cap.max_messages:
        return Decision(Outcome.SUPPRESS, "frequency_cap")
    until = quiet_hours_end(facts.local_now, facts.quiet_start, facts.quiet_end)
    if until is not None:
        return Decision(Outcome.DEFER, "quiet_hours", defer_until=until)
    return Decision(Outcome.SEND)
