"""Tickets service: support cases and complaints, SLA clocks, agent queues, satisfaction surveys.

    main.py       the ASGI app (routes + event consumer + outbox relay + SLA watcher)
    settings.py   TicketsSettings (env prefix RELACJA_TICKETS_)
    tables.py     the service's tables (DDL in migrations/versions/0002_tickets.py)
    domain/       pure rules: business time, SLA clocks and rules, the state machine, calendars, surveys
    clocks.py     SLA clocks and policies between rows and domain values
    workflow.py   what a change does to a ticket, its clocks and the outbox
    scheduler.py  the SLA breach watcher and the auto-closer (background worker)
    handlers.py   customer merge / erasure, placed orders (consumer group tickets.events)
    events.py     emit() to the outbox; the ticket snapshot every ticket event carries
    api/          HTTP routes and their request/response models

Rules and choices: docs/tickets.md.
"""
