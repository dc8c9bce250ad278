"""The points ledger of one member: append-only entries, earn lots, debt.

    entry kinds   earn (+, opens a lot)  redeem (−)  expire (−)  reverse (−)  adjust (±)

Every earn — and every positive adjustment — is a *lot*: its points, what remains of them,
when they become spendable (the pending period) and when they expire. Points leave the
ledger only by taking them from lots:

    redeem           spendable lots, soonest-expiring first (never-expiring last), then oldest
    negative adjust  the same order over every unexpired lot (pending ones after spendable ones)
    expire           a lot past its expiry loses what remains of it
    reverse          the lots the order earned, and only those: what was already spent is
                     *debt* — never taken silently from other lots; the next lots settle it first

The invariant the property test checks after every operation:

    balance == sum(entry.points) == sum(lot.remaining) − debt,   every lot.remaining ≥ 0

``available`` is what a member can spend now: the spendable remaining minus the debt.
The planners below are what the use cases call on the rows they locked; ``MemberLedger``
applies the same planners to a whole ledger in memory.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

__all__ = [
    "EntryKind",
    "Entry",
    "InsufficientPoints",
    "Lot",
    "MemberLedger",
    "Take",
    "available_points",
    "consumption_key",
    "expiring_points",
    "is_spendable",
    "pending_points",
    "plan_debit",
    "plan_expiry",
    "plan_redemption",
    "plan_reversal",
    "settle_debt",
]

EntryKind = Literal["earn", "redeem", "expire", "reverse", "adjust"]


@dataclass
class Lot:
    """Points one earn entry (or positive adjustment) brought in, and what remains of them."""

    id: uuid.UUID
    points: int
    remaining: int
    earned_at: datetime
    spendable_at: datetime
    expires_at: datetime | None
    order_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Take:
    """Points taken from one lot by a redemption, expiry, reversal or negative adjustment."""

    lot_id: uuid.UUID
    points: int


@dataclass(frozen=True)
class Entry:
    kind: EntryKind
    points: int  # signed: what the entry adds to the balance
    lot_id: uuid.UUID | None = None
    takes: tuple[Take, ...] = ()
    debt: int = 0  # reverse: the shortfall recorded as debt; earn/adjust: debt settled (negative)


class InsufficientPoints(ValueError):
    """More points asked for than are available (409 ``insufficient-points``)."""

    def __init__(self, requested: int, available: int) -> None:
        super().__init__(f"{requested} points requested, {available} available.")
        self.requested, self.available = requested, available


def _not_expired(lot: Lot, now: datetime) -> bool:
    return lot.expires_at is None or lot.expires_at > now


def is_spendable(lot: Lot, now: datetime) -> bool:
    return lot.remaining > 0 and lot.spendable_at <= now and _not_expired(lot, now)


def consumption_key(lot: Lot) -> tuple[bool, datetime, datetime, uuid.UUID]:
    """Soonest-expiring first, never-expiring last; then oldest; the id breaks ties."""
    return (lot.expires_at is None, lot.expires_at or lot.earned_at, lot.earned_at, lot.id)


def available_points(lots: Iterable[Lot], debt: int, now: datetime) -> int:
    return max(0, sum(lot.remaining for lot in lots if is_spendable(lot, now)) - debt)


def pending_points(lots: Iterable[Lot], now: datetime) -> int:
    return sum(lot.remaining for lot in lots if lot.remaining > 0 and lot.spendable_at > now and _not_expired(lot, now))


def expiring_points(lots: Iterable[Lot], now: datetime, within: timedelta) -> int:
    """Spendable or pending points whose lot expires within ``within`` from ``now``."""
    return sum(
        lot.remaining
        for lot in lots
        if lot.remaining > 0 and lot.expires_at is not None and now < lot.expires_at <= now + within
    )


def _take(lots: Iterable[Lot], points: int) -> list[Take]:
    takes: list[Take] = []
    for lot in lots:
        if points == 0:
            break
        taken = min(lot.remaining, points)
        if taken > 0:
            takes.append(Take(lot.id, taken))
            points -= taken
    return takes


def plan_redemption(lots: Sequence[Lot], debt: int, points: int, now: datetime) -> list[Take]:
    """The lots a redemption of ``points`` takes from; InsufficientPoints beyond ``available``."""
    if points <= 0:
        raise ValueError("a redemption takes a positive number of points")
    available = available_points(lots, debt, now)
    if points > available:
        raise InsufficientPoints(points, available)
    return _take(sorted((lot for lot in lots if is_spendable(lot, now)), key=consumption_key), points)


def plan_debit(lots: Sequence[Lot], debt: int, points: int, now: datetime) -> list[Take]:
    """A negative adjustment: spendable lots first, then pending ones, each FIFO by expiry."""
    if points <= 0:
        raise ValueError("a debit takes a positive number of points")
    live = [lot for lot in lots if lot.remaining > 0 and _not_expired(lot, now)]
    held = sum(lot.remaining for lot in live) - debt
    if points > held:
        raise InsufficientPoints(points, max(0, held))
    return _take(sorted(live, key=lambda lot: (lot.spendable_at > now, *consumption_key(lot))), points)


def plan_expiry(lots: Iterable[Lot], now: datetime) -> list[Take]:
    """What expires at ``now``: the remaining points of every lot past its expiry."""
    return [
        Take(lot.id, lot.remaining)
        for lot in sorted(lots, key=consumption_key)
        if lot.remaining > 0 and lot.expires_at is not None and lot.expires_at <= now
    ]


def plan_reversal(order_lots: Sequence[Lot], points: int) -> tuple[list[Take], int]:
    """Take ``points`` back from the lots one order earned; the rest (already spent) is debt."""
    if points <= 0:
        raise ValueError("a reversal takes a positive number of points")
    # The lots that would be spent last are taken first, so the sooner-expiring points stay usable.
    takes = _take(sorted(order_lots, key=consumption_key, reverse=True), points)
    return takes, points - sum(t.points for t in takes)


def settle_debt(debt: int, points: int) -> tuple[int, int]:
    """A new lot of ``points`` pays the debt first: (settled, what remains in the lot)."""
    settled = min(debt, points)
    return settled, points - settled


@dataclass
class MemberLedger:
    """One member's whole ledger in memory: the planners applied, entries appended."""

    lots: list[Lot] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    debt: int = 0

    @property
    def balance(self) -> int:
        return sum(entry.points for entry in self.entries)

    def _lot(self, lot_id: uuid.UUID) -> Lot:
        return next(lot for lot in self.lots if lot.id == lot_id)

    def _apply(self, takes: Iterable[Take]) -> tuple[Take, ...]:
        applied = tuple(takes)
        for take in applied:
            self._lot(take.lot_id).remaining -= take.points
        return applied

    def earn(
        self,
        points: int,
        *,
        now: datetime,
        spendable_at: datetime,
        expires_at: datetime | None,
        order_id: uuid.UUID | None = None,
        kind: EntryKind = "earn",
    ) -> Entry:
        if points <= 0:
            raise ValueError("an earn brings a positive number of points")
        settled, remaining = settle_debt(self.debt, points)
        self.debt -= settled
        lot = Lot(uuid.uuid4(), points, remaining, now, spendable_at, expires_at, order_id)
        self.lots.append(lot)
        entry = Entry(kind, points, lot_id=lot.id, debt=-settled)
        self.entries.append(entry)
        return entry

    def redeem(self, points: int, now: datetime) -> Entry:
        takes = self._apply(plan_redemption(self.lots, self.debt, points, now))
        entry = Entry("redeem", -points, takes=takes)
        self.entries.append(entry)
        return entry

    def debit(self, points: int, now: datetime) -> Entry:
        takes = self._apply(plan_debit(self.lots, self.debt, points, now))
        entry = Entry("adjust", -points, takes=takes)
        self.entries.append(entry)
        return entry

    def expire(self, now: datetime) -> list[Entry]:
        expired = [
            Entry("expire", -take.points, lot_id=take.lot_id, takes=(take,)) for take in plan_expiry(self.lots, now)
        ]
        for entry in expired:
            self._apply(entry.takes)
        self.entries.extend(expired)
        return expired

    def reverse(self, order_id: uuid.UUID, points: int) -> Entry:
        takes, shortfall = plan_reversal([lot for lot in self.lots if lot.order_id == order_id], points)
        applied = self._apply(takes)
        self.debt += shortfall
        entry = Entry("reverse", -points, takes=applied, debt=shortfall)
        self.entries.append(entry)
        return entry

    def absorb(self, other: MemberLedger) -> None:
        """A merge: the other member's lots, entries and debt continue under this one."""
        self.lots.extend(other.lots)
        self.entries.extend(other.entries)
        self.debt += other.debt
        other.lots, other.entries, other.debt = [], [], 0
