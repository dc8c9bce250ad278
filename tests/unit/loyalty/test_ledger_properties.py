"""Property test: 10,000 random ledger operations (earn, redeem, return, expire, adjust,
merge) never make the balance differ from the ledger, nor a lot negative.

One hypothesis example is a sequence of up to 100 operations over two members whose
ledgers get merged now and then; 100 examples × 100 operations = 10,000 operations.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relacja_loyalty.domain.ledger import InsufficientPoints, MemberLedger, available_points

START = datetime(2026, 1, 1, tzinfo=UTC)

operation = st.one_of(
    st.tuples(st.just("earn"), st.integers(1, 500), st.integers(0, 30), st.integers(0, 400), st.booleans()),
    st.tuples(st.just("redeem"), st.integers(1, 600)),
    st.tuples(st.just("return"), st.integers(0, 50), st.integers(1, 100)),
    st.tuples(st.just("expire")),
    st.tuples(st.just("adjust"), st.integers(-300, 300).filter(bool)),
    st.tuples(st.just("merge")),
    st.tuples(st.just("tick"), st.integers(1, 60)),
)


def check(ledger: MemberLedger, now: datetime) -> None:
    assert ledger.balance == sum(lot.remaining for lot in ledger.lots) - ledger.debt
    assert all(0 <= lot.remaining <= lot.points for lot in ledger.lots)
    assert ledger.debt >= 0
    assert available_points(ledger.lots, ledger.debt, now) >= 0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 1), operation), min_size=100, max_size=100))
def test_balance_always_equals_the_ledger(operations) -> None:
    members = [MemberLedger(), MemberLedger()]
    orders: list[tuple[int, uuid.UUID]] = []
    now = START
    for who, op in operations:
        ledger = members[who]
        kind = op[0]
        if kind == "earn":
            _, points, pending_days, life_days, from_order = op
            order_id = uuid.uuid4() if from_order else None
            ledger.earn(
                points,
                now=now,
                spendable_at=now + timedelta(days=pending_days),
                expires_at=now + timedelta(days=life_days) if life_days else None,
                order_id=order_id,
            )
            if order_id:
                orders.append((who, order_id))
        elif kind == "redeem":
            before = ledger.balance
            try:
                ledger.redeem(op[1], now)
            except InsufficientPoints:
                assert ledger.balance == before  # nothing half-written
        elif kind == "return" and orders:
            owner, order_id = orders[op[1] % len(orders)]
            earned = sum(lot.points for lot in members[owner].lots if lot.order_id == order_id)
            members[owner].reverse(order_id, max(1, earned * op[2] // 100))
        elif kind == "expire":
            ledger.expire(now)
            assert all(lot.remaining == 0 for lot in ledger.lots if lot.expires_at and lot.expires_at <= now)
        elif kind == "adjust":
            if op[1] > 0:
                ledger.earn(op[1], now=now, spendable_at=now, expires_at=None, kind="adjust")
            else:
                with contextlib.suppress(InsufficientPoints):
                    ledger.debit(-op[1], now)
        elif kind == "merge":
            total = members[0].balance + members[1].balance
            members[0].absorb(members[1])
            orders = [(0, order_id) for _, order_id in orders]
            assert members[0].balance == total and members[1].balance == 0
        elif kind == "tick":
            now += timedelta(days=op[1])
        for member in members:
            check(member, now)
