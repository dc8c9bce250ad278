"""HTTP routes of the sharing service (imported by main.py only).

partners.py      /api/v1/sharing/partners: create, list, read, change, suspend, resume
keys.py          /api/v1/sharing/partners/{id}/keys: issue (shown once), list, revoke;
                 /internal/v1/partner-credentials/introspect for the gateway (not in OpenAPI)
agreements.py    /api/v1/sharing/agreements: create, list, read, change (new version), versions, actions
disclosures.py   /api/v1/customers/{id}/disclosures: the recipients of one customer's data
partner_face.py  /partner/v1: the partner's agreements, feeds, erasure notices, reports
principal.py     the caller from the gateway's headers (partner id, staff member)
problems.py      the use cases' refusals as RFC 9457 problems
"""
