"""Churn and value service: BG/NBD and Gamma-Gamma models, lifetime value, relationship KPIs.

    main.py        the ASGI app (routes + event consumer + run worker + outbox relay)
    settings.py    ChurnSettings (env prefix RELACJA_CHURN_): reporting currency, run defaults, refit period
    tables.py      the service's tables (SQLAlchemy Core): the projection, model runs, scores
    domain/        pure rules, no I/O: models/ (BG/NBD, Gamma-Gamma, CLV, tiers and bands, time
                   units, summaries), fitting.py (one model run as computation), runs.py (the
                   run's lifecycle), kpis.py (relationship KPIs, cohorts), purchases.py (what
                   counts as a purchase occasion)
    app/           use cases: runs.py (create, read, activate, scheduled refit), execution.py
                   (claim and execute pending runs, fail abandoned ones), scores.py (scores and
                   equity of a run), kpis.py, rescoring.py (one customer live), store.py (the
                   projection read into arrays, alias resolution), tiers_events.py (risk-tier
                   changes announced), events.py (emit / emit_many through the outbox),
                   errors.py (what the use cases refuse)
    api/           HTTP only: routes and their bodies; problems.py maps the use cases' refusals
                   (imported by main.py only)
    consumers.py   the projection: customers, orders and survey answers (consumer ``churn.projection``)
    workers.py     the run worker: abandoned runs, scheduled refit, pending runs
    cli.py         the analyst command ``python -m relacja_churn.cli fit`` (a CSV in, the model
                   card out; pure domain/, no services needed)
    migrations/    (beside the package) frozen Alembic revisions

Documentation: docs/churn.md.
"""
