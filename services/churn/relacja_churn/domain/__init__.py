"""Pure rules of the churn service that are not the models themselves.

    kpis.py       relationship KPIs per period, cohort retention
    purchases.py  which orders are purchase occasions (not cancelled, not fully returned)
"""
