"""Use cases of the sharing service: (session, parameters) → result; refusals are app/errors.py.

partners.py   partners: create, read, list, change
errors.py     what the use cases refuse (mapped to problems in api/problems.py)
"""
