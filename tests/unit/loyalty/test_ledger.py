"""The ledger's rules: FIFO-by-expiry redemption, debt on reversal, expiry, and the invariant."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from relacja_loyalty.domain.ledger import (
    InsufficientPoints,
    Lot,
    MemberLedger,
    available_points,
    expiring_points,
    pending_points,
    plan_redemption,
    plan_reversal,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def lot(points: int, *, earned: int = -30, spendable: int = -1, expires: int | None = 300, order=None) -> Lot:
    return Lot(
        uuid.uuid4(),
        points,
        points,
        NOW + earned * DAY,
        NOW + spendable * DAY,
        None if expires is None else NOW + expires * DAY,
        order,
    )


def test_redemption_takes_soonest_expiring_first_then_oldest_never_expiring_last() -> None:
    never = lot(100, earned=-90, expires=None)
    late = lot(100, earned=-60, expires=200)
    soon_new = lot(30, earned=-10, expires=50)
    soon_old = lot(30, earned=-20, expires=50)
    takes = plan_redemption([never, late, soon_new, soon_old], 0, 150, NOW)
    assert [(t.lot_id, t.points) for t in takes] == [(soon_old.id, 30), (soon_new.id, 30), (late.id, 90)]


def test_pending_and_expired_lots_are_not_spendable() -> None:
    pending = lot(50, spendable=3)
    expired = lot(40, expires=-1)
    ok = lot(10)
    assert available_points([pending, expired, ok], 0, NOW) == 10
    assert pending_points([pending, expired, ok], NOW) == 50
    with pytest.raises(InsufficientPoints) as caught:
        plan_redemption([pending, expired, ok], 0, 11, NOW)
    assert (caught.value.requested, caught.value.available) == (11, 10)


def test_debt_reduces_what_is_available() -> None:
    assert available_points([lot(100)], 30, NOW) == 70
    with pytest.raises(InsufficientPoints):
        plan_redemption([lot(100)], 30, 71, NOW)


def test_expiring_soon_counts_lots_expiring_within_the_window() -> None:
    assert expiring_points([lot(5, expires=10), lot(7, expires=40), lot(9, expires=None)], NOW, 30 * DAY) == 5


def test_reversal_takes_only_the_orders_lots_and_records_the_shortfall_as_debt() -> None:
    order = uuid.uuid4()
    ledger = MemberLedger()
    ledger.earn(100, now=NOW - 20 * DAY, spendable_at=NOW - DAY, expires_at=NOW + 300 * DAY, order_id=order)
    ledger.earn(50, now=NOW - 20 * DAY, spendable_at=NOW - DAY, expires_at=NOW + 100 * DAY)
    ledger.redeem(120, NOW)  # the other lot first (sooner expiry): 50 from it, 70 from the order's
    assert [x.remaining for x in ledger.lots] == [30, 0]
    entry = ledger.reverse(order, 60)
    assert entry.points == -60 and entry.debt == 30
    assert [x.remaining for x in ledger.lots] == [0, 0]
    assert ledger.debt == 30 and ledger.balance == -30
    # The next earning settles the debt first.
    ledger.earn(40, now=NOW, spendable_at=NOW, expires_at=None)
    assert ledger.debt == 0 and ledger.lots[-1].remaining == 10 and ledger.balance == 10
    assert available_points(ledger.lots, ledger.debt, NOW) == 10


def test_plan_reversal_of_unspent_points_leaves_no_debt() -> None:
    order = uuid.uuid4()
    takes, shortfall = plan_reversal([lot(80, order=order), lot(20, order=order, expires=10)], 90)
    assert shortfall == 0 and sum(t.points for t in takes) == 90
    assert takes[0].points == 80  # the later-expiring lot goes back first


def test_expire_removes_what_remains_of_lots_past_their_expiry() -> None:
    ledger = MemberLedger()
    ledger.earn(100, now=NOW - 400 * DAY, spendable_at=NOW - 390 * DAY, expires_at=NOW - DAY)
    ledger.earn(10, now=NOW - 10 * DAY, spendable_at=NOW - 5 * DAY, expires_at=None)
    ledger.redeem(30, NOW - 2 * DAY)
    expired = ledger.expire(NOW)
    assert [e.points for e in expired] == [-70]
    assert ledger.balance == 10 and ledger.expire(NOW) == []


def test_debit_takes_spendable_before_pending_and_refuses_more_than_held() -> None:
    ledger = MemberLedger()
    ledger.earn(10, now=NOW, spendable_at=NOW + DAY, expires_at=None)
    ledger.earn(5, now=NOW - DAY, spendable_at=NOW - DAY, expires_at=None)
    ledger.debit(7, NOW)
    assert [x.remaining for x in ledger.lots] == [8, 0]
    with pytest.raises(InsufficientPoints):
        ledger.debit(9, NOW)


def test_absorb_moves_lots_entries_and_debt() -> None:
    survivor, merged = MemberLedger(), MemberLedger()
    survivor.earn(10, now=NOW, spendable_at=NOW, expires_at=None)
    merged.earn(5, now=NOW, spendable_at=NOW, expires_at=None, order_id=(order := uuid.uuid4()))
    merged.redeem(5, NOW)
    merged.reverse(order, 5)
    survivor.absorb(merged)
    assert survivor.debt == 5 and survivor.balance == 5 and merged.balance == 0
