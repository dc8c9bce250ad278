"""The customers service: the customer master every team sees.

    main.py       the ASGI app (routes + outbox relay)
    settings.py   CustomersSettings (env prefix RELACJA_CUSTOMERS_)
    tables.py     the service's tables (SQLAlchemy Core)
    domain/       pure rules: normalisation, display names — no I/O
    api/          HTTP routes and their request/response models
"""
