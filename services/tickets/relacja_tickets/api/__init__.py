"""HTTP routes of the tickets service (parse, call app/, map errors to problems, answer).

    tickets.py       /api/v1/tickets: open, list, queue, at-risk, settings, get, change, the actions
                     (start, wait, resume, resolve, close, reopen)
    comments.py      /api/v1/tickets/{id}/comments
    insights.py      /api/v1/tickets/metrics and /api/v1/tickets/customers/{id}/summary
    sla_policies.py  /api/v1/sla-policies
    surveys.py       /api/v1/surveys (issue NPS) and /api/v1/surveys/{token} (public)
    schemas.py       request and response models
    problems.py      the service's own errors as problems

ETag / If-Match, Idempotency-Key and the problem declarations are relacja_servicekit's.
"""
