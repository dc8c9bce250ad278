"""Sales service: leads and their conversion, opportunities in pipelines, activities with
reminders, the weighted forecast and pipeline reports, record-level access.

    main.py       the ASGI app (routes + event consumer + outbox relay + reminder worker)
    settings.py   SalesSettings (env prefix RELACJA_SALES_)
    tables.py     the service's tables (DDL in migrations/versions/)
    domain/       pure rules: access (who sees what), pipelines and stages, deal checks,
                  activities and reminders, forecast arithmetic, stage-history reports
    app/          use cases: pipelines, opportunities, leads, activities, reports, summary
    api/          HTTP only: routes, request/response models, the caller from the gateway
    consumers.py  customer registration (leads) / merge / erasure (consumer group sales.projection)
    workers.py    the reminder worker (ActivityDueV1, exactly once)
    events.py     emit() to the outbox

Rules and choices: docs/sales.md.
"""
