"""The segmentation service: analytical projections and segments built only from events.

    main.py       the ASGI app (routes + event consumer + outbox relay)
    settings.py   SegmentationSettings (env prefix RELACJA_SEGMENTATION_)
    tables.py     the projection tables
    handlers.py   event handlers that keep the projection current
    api/          HTTP routes and their response models
"""
