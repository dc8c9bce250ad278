"""Churn and value service: BG/NBD and Gamma-Gamma models, lifetime value, relationship KPIs.

    main.py       the ASGI app (routes + event consumer + outbox relay)
    settings.py   ChurnSettings (env prefix RELACJA_CHURN_)
    tables.py     the service's tables
    api/          HTTP routes and their request/response models
"""
