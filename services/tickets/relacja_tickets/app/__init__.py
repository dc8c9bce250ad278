"""Use cases of the tickets service: each takes the session (the caller's transaction) and
plain values, returns rows or small results, and writes events through the outbox.

    tickets.py       open (customer checked, read-through on a miss), read, list, queues,
                     change fields, the state-machine actions, the effects of a comment
    comments.py      a ticket's thread
    sla_policies.py  checking, creating, replacing and reading SLA policies
    surveys.py       issuing and answering CSAT / NPS surveys
    insights.py      service metrics and a customer's summary (read-only)
    clocks.py        SLA clocks and policies between rows and domain values

Nothing here knows HTTP beyond raising ``relacja_servicekit.Problem`` for a missing or
closed object and checking If-Match (servicekit); domain errors
(``domain.lifecycle.IllegalTransition``) and this package's own (``InvalidPolicy``,
``DuplicatePolicy``, ``SurveyGone``, ...) are mapped to problems by api/.
"""
