"""The segmentation service: analytical projections and segments built only from events.

    main.py        the ASGI app (routes + event consumer + outbox relay + schedule)
    settings.py    SegmentationSettings (env prefix RELACJA_SEGMENTATION_)
    tables.py      the projection tables
    handlers.py    event handlers that keep the projection current
    projection.py  per-customer aggregates recomputed from the customer's rows
    scoring.py     RFM / ABC / quadrant: one customer (events) or everybody (recomputation)
    membership.py  materialised rule-based segment membership
    rule_sql.py    rule → parameterised SQL condition
    events.py      emit() and set-based outbox inserts
    scheduler.py   the scheduled full recomputation
    domain/        pure, vectorised scoring and the rule language
    api/           HTTP routes and their response models
"""
