"""Sharing service: partner companies receive and contribute customer data under agreements and consent.

    main.py        the ASGI app (routes + event consumer + housekeeping + outbox relay)
    settings.py    SharingSettings (env prefix RELACJA_SHARING_): retention of the feed and the disclosure log
    tables.py      the service's tables (SQLAlchemy Core): partners, keys, agreements, projection, feed, log
    domain/        pure rules, no I/O
    app/           use cases
    api/           HTTP only: the staff face /api/v1/sharing, the partner face /partner/v1, the
                   internal key introspection (imported by main.py only)
    consumers.py   the projection and the fan-out into feeds (consumer ``sharing.fanout``)
    workers.py     housekeeping: retention of feed records and disclosures
    migrations/    (beside the package) frozen Alembic revisions

Documentation: docs/sharing.md.
"""
