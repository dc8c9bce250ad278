"""Use cases of the loyalty service: (session, command) → result; they raise the refusals of
``errors.py`` (or the domain's) and write events through ``events.outbox``.

    programmes.py    programmes; a programme row as the domain's rules and tiers
    members.py       enrolment, leave / rejoin, member reads, the ledger page, adjustments, customer 360
    ledger.py        the one writer of ledger entries, lots and member balances (locks the member)
    accrual.py       points from paid orders; reversal on cancellation and return
    tiers.py         the qualifying value and tier re-evaluation (TierChangedV1)
    catalogue.py     offers, rewards, coupons (issue, revoke), redemption of points for a reward
    coupon_usage.py  coupons used and released, from the orders' events
    customers.py     merges, erasure, birthdays and segment membership from other services' events
    housekeeping.py  expiry of lots and the daily tier evaluation (the worker)
    kpis.py          programme KPIs
    schemas.py       request and response bodies
    errors.py        what the use cases refuse
    events.py        the outbox writer
"""
