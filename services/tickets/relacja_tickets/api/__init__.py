"""HTTP routes of the tickets service.

    tickets.py       /api/v1/tickets: open, list, queue, at-risk, get, change, status
    comments.py      /api/v1/tickets/{id}/comments
    insights.py      /api/v1/tickets/metrics and /api/v1/tickets/customers/{id}/summary
    sla_policies.py  /api/v1/sla-policies
    surveys.py       /api/v1/surveys (issue NPS) and /api/v1/surveys/{token} (public)
    schemas.py       request and response models
    http.py          ETag / If-Match, Idempotency-Key, problem helpers
"""
