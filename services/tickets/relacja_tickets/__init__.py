"""Tickets service: support cases and complaints, SLA clocks, agent queues, satisfaction surveys.

    main.py       the ASGI app (routes + event consumer + outbox relay + SLA watcher)
    settings.py   TicketsSettings (env prefix RELACJA_TICKETS_)
    tables.py     the service's tables (DDL in migrations/versions/)
    domain/       pure rules: business time, SLA clocks and rules, the state machine and its
                  actions, calendars, surveys
    app/          use cases: tickets (open, change, actions, comments' effects), comments,
                  SLA policies, surveys, insights; clocks.py moves SLA clocks between rows and domain
    api/          HTTP only: routes, request/response models, the service's problems
    consumers.py  customer registration / merge / erasure, placed orders (consumer group tickets.events)
    workers.py    the SLA breach watcher and the auto-closer (background worker)
    events.py     emit() to the outbox; the ticket snapshot every ticket event carries

Rules and choices: docs/tickets.md.
"""
