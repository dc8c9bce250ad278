"""Pure rules of the loyalty service (no I/O; unit-tested in tests/unit/loyalty/).

ledger.py     lots, FIFO-by-expiry consumption, debt, reversal, expiry; ``MemberLedger``,
              the whole ledger of one member in memory (the property test drives it)
earning.py    points an order earns under a programme's rules; spendable and expiry dates
tiers.py      tier qualification, requalification and the grace period before a downgrade
coupons.py    coupon codes (unguessable, no ambiguous characters) and offer checks
"""
