"""HTTP routes of the churn service (imported by main.py only).

models.py     /api/v1/churn/models: create, list, read, active, activate
customers.py  /api/v1/churn/customers (scores), /api/v1/churn/equity
kpis.py       /api/v1/kpis, /api/v1/kpis/cohorts
settings.py   /api/v1/churn/settings: the settings that change the answers
schemas.py    request and response bodies shared by the routes
problems.py   the use cases' refusals as RFC 9457 problems
"""
