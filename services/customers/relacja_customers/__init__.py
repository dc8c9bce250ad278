"""The customers service: the customer master every team sees, its contact history,
consents and important dates.

    main.py        the ASGI app: routes, the outbox relay, the order-event consumer, the announcer
    settings.py    CustomersSettings (env prefix RELACJA_CUSTOMERS_)
    tables/        the service's tables (SQLAlchemy Core), one module per area
    domain/        pure rules: fields and normalisation, lifecycle moves, duplicates, merge,
                   privacy, consents, interactions, important dates, import rows — no I/O
    app/           use cases, one module per aggregate: customers (records.py, schemas.py),
                   merge, privacy, consents, interactions, important_dates, timeline, imports;
                   related_data.py / related_areas.py: what merge, export and erasure do with
                   the areas beside the customer row; related_rows.py: their locks
    api/           HTTP only: routes and their problem answers (imported by main.py only)
    consumers.py   event handlers: an order makes a lead a customer (lifecycle)
    workers.py     the daily important-date announcer
    events.py      emit(): the outbox and the customer's event log, in one transaction
    migrations/    (beside the package) frozen Alembic revisions
"""
