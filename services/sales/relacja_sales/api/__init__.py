"""HTTP only: routes, request/response models and the caller's identity.

caller.py         CallerDep: the caller's id, team and role from the gateway's identity headers
schemas.py        request and response models
pipelines.py      /api/v1/sales/pipelines, /loss-reasons, /exchange-rates (writes: sales:admin)
opportunities.py  /api/v1/sales/opportunities (+ board, actions, stage history)
leads.py          /api/v1/sales/leads (+ assign, convert)
activities.py     /api/v1/sales/activities (+ overdue, actions)
reports.py        /api/v1/sales/forecast, /reports/pipeline, /customers/{id}/summary
"""
