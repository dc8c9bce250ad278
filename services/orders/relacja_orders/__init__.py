"""Orders service: catalog, orders, payments state, returns and refunds, historical import.

    main.py       the ASGI app (routes + event consumer + outbox relay)
    settings.py   OrdersSettings (env prefix RELACJA_ORDERS_)
    tables.py     the service's tables
    api/          HTTP routes and their request/response models
"""
