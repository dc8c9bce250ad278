"""Use cases of the churn service: (session, parameters) → result; refusals are app/errors.py
or domain.runs.IllegalTransition; events go through the outbox (events.py).

    runs.py          model runs: create (service defaults filled in), read, list, activate, scheduled refit
    execution.py     the run worker's steps: claim a pending run, compute it, write scores, fail abandoned runs
    scores.py        a run's customer scores (one, a filtered page) and customer equity
    kpis.py          relationship KPIs and the cohort table over the projection
    rescoring.py     re-score one customer with the active run (after an order or a merge)
    store.py         the projection's purchases as arrays; merged-id resolution
    tiers_events.py  ChurnRiskTierChangedV1 for every risk tier a score changes
    events.py        emit / emit_many: the service's one way to write events (the shared Outbox)
    errors.py        what the use cases refuse (mapped to problems in api/problems.py)
"""
