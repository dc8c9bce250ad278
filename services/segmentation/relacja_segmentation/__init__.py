"""The segmentation service: analytical projections and segments built only from events.

main.py        the ASGI app (routes + event consumer + outbox relay + schedule)
settings.py    SegmentationSettings (env prefix RELACJA_SEGMENTATION_)
tables.py      the projection tables
domain/        pure, vectorised scoring (RFM, ABC, loyalty matrix) and the rule language
app/           use cases: projection upkeep, scoring, membership, rule SQL, segments, profiles, analysis
api/           HTTP routes and their response models (imported by main.py only)
consumers.py   event handlers that keep the projection, scores and membership current
workers.py     the scheduled full recomputation
events.py      emit() and set-based outbox inserts
migrations/    (beside the package) frozen Alembic revisions
"""
