"""Orders service: catalog, orders, payments state, returns and refunds, historical import.

    main.py         the ASGI app (routes + customers consumer + outbox relay)
    settings.py     OrdersSettings (env prefix RELACJA_ORDERS_)
    tables.py       the service's tables
    domain/         pure rules: money rounding, pricing, status machine, returns, import rows
    api/            HTTP routes and their request/response models
    projection.py   the customers projection (consumer of relacja.customers)
    snapshot.py     an order as the payload every order event carries
    events.py       emit(): live events through the outbox
    bulk_events.py  outbox rows for imported orders, built by PostgreSQL

Documentation: docs/orders.md.
"""
