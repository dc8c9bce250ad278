"""HTTP routes of the sharing service (imported by main.py only).

partners.py   /api/v1/sharing/partners: create, list, read, change
"""
