"""Orders service: catalog, orders, payments state, returns and refunds, historical import.

    main.py         the ASGI app (routes + customers consumer + outbox relay)
    settings.py     OrdersSettings (env prefix RELACJA_ORDERS_)
    tables.py       the service's tables (SQLAlchemy Core)
    domain/         pure rules: money rounding, pricing, coupons at checkout, the status
                    machine and return decisions, return limits and values, import rows — no I/O
    app/            use cases, one module per aggregate: products, orders (customer check
                    with read-through, pricing, transitions, refund on cancel), returns
                    (pending limits, decisions), summary (a customer's orders in brief),
                    imports, coupons (the projection and its uses: redeem, release);
                    events.py: the order event payload and its two writers (one
                    live event, the import's set-based SQL); schemas.py: commands and
                    results; errors.py: what the use cases refuse
    api/            HTTP only: routes, parsing, ETag/If-Match and Idempotency-Key through
                    relacja_servicekit, problems.py maps the use cases' refusals
                    (imported by main.py only)
    consumers.py    the customers projection (relacja.customers) and the coupons
                    projection (relacja.loyalty)
    migrations/     (beside the package) frozen Alembic revisions

No workers.py: the service has no scheduler or background loop of its own (the outbox
relay and the consumer are servicekit's, started by main.py).

Documentation: docs/orders.md.
"""
