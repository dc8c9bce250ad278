"""Use cases of the sales service, each in the caller's transaction.

common.py         record-level access as SQL, the service's problems
pipelines.py      pipelines and stages, loss reasons, exchange rates
opportunities.py  deals: create, read, list, change, move, win, lose, board, history
leads.py          the lead projection, assignment and the idempotent conversion
activities.py     calls, meetings, to-dos; complete, cancel; overdue lists
reports.py        the weighted forecast and the pipeline report
summary.py        a customer's open deals and next activities (the customer-360 part)
"""
