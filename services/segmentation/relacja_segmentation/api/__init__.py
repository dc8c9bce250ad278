"""HTTP routes of the segmentation service: parse, call ``app``, map its errors to problems.

profiles.py     GET /customers/{id}
analysis.py     GET /settings, /rfm, /abc, /loyalty-matrix; POST /recomputations, GET /recomputations/latest
segments.py     /segments: preview, create, list, fields, get, replace, delete, members (JSON or CSV)
rule_models.py  the rule language as pydantic models (the OpenAPI schema of a rule)
"""
