"""Tickets service: support cases and complaints, SLA clocks, agent queues, satisfaction surveys.

    main.py       the ASGI app (routes + event consumer + outbox relay)
    settings.py   TicketsSettings (env prefix RELACJA_TICKETS_)
    tables.py     the service's tables
    api/          HTTP routes and their request/response models
"""
