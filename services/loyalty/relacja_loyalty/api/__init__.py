"""HTTP only: the routes parse, call ``app/`` and map its refusals (``problems.py``).
Imported by ``main.py`` only.

    programmes.py   programmes and KPIs
    members.py      enrolment, member reads, ledger, leave / rejoin, adjustments, redemptions
    catalogue.py    offers, rewards, coupons (issue, read, revoke)
    customers.py    the customer-360 part
"""
