"""Use cases of the segmentation service: functions taking a session, returning plain data,
raising domain errors; every event goes through the outbox (``..events``).

    projection.py   per-customer aggregates recomputed from the customer's rows (and set-based for all)
    scoring.py      RFM / ABC / quadrant: one customer (events) or everybody (full recomputation)
    membership.py   materialised rule-based segment membership, per customer or set-based per segment
    rule_sql.py     a validated rule (domain/rules.py) → a parameterised SQL condition
    segments.py     save / replace / delete / read segments, preview a rule, page and export members
    profiles.py     a customer's analytical profile and segments
    analysis.py     distributions (RFM, ABC, loyalty matrix), recomputation on demand, the parameters used
"""
