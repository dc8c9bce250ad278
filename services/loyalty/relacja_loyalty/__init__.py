"""Loyalty service: programmes, members and the points ledger, tiers, rewards, offers and coupons.

    main.py        the ASGI app (routes + event consumer + housekeeping worker + outbox relay)
    settings.py    LoyaltySettings (env prefix RELACJA_LOYALTY_): database, customers URL, worker period
    tables.py      the service's tables (SQLAlchemy Core): programmes, members, the ledger, orders,
                   offers, rewards, coupons and their uses, the customers and segments projections
    domain/        pure rules, no I/O: ledger.py (lots, FIFO-by-expiry, debt, expiry), earning.py
                   (earning rules, pending period, expiry dates), tiers.py, coupons.py (codes,
                   offer rules), cards.py (card numbers)
    app/           use cases (see app/__init__.py)
    api/           HTTP only: routes; problems.py maps the use cases' refusals (imported by main.py only)
    consumers.py   the consumer ``loyalty.projection``: customers, orders, segment membership
    workers.py     expiry of lots and the daily tier evaluation
    migrations/    (beside the package) frozen Alembic revisions

Documentation: docs/loyalty.md.
"""
