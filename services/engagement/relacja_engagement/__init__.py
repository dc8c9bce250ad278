"""Engagement service: personalised messages on the customer's moments, with consent, caps and measured effect.

    main.py        the ASGI app (routes + event consumer + sender worker + outbox relay)
    settings.py    EngagementSettings (env prefix RELACJA_ENGAGEMENT_): database, SMTP, providers, peers
    tables.py      templates, triggers, campaigns, the policy, suppressions, the message log, projections
    domain/        pure rules, no I/O (see domain/__init__.py)
    app/           use cases (see app/__init__.py)
    api/           HTTP only: routes; problems.py maps the use cases' refusals (imported by main.py only)
    consumers.py   the consumer ``engagement.triggers``: projections and trigger evaluation
    workers.py     the sender: due messages → checks at send time → SMTP / webhook
    migrations/    (beside the package) frozen Alembic revisions

Documentation: docs/engagement.md.
"""
