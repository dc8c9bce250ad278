"""Pure rules of the churn service (NumPy/SciPy, no I/O; mypy strict).

models/       the "buy till you die" models: BG/NBD, Gamma-Gamma, CLV, tiers, units
fitting.py    one model run as computation: transactions in, fits and scores out
runs.py       the model run's lifecycle: which action each status allows
kpis.py       relationship KPIs per period, cohort retention, the KPI range rule
purchases.py  which orders are purchase occasions (not cancelled, not fully returned)
"""
