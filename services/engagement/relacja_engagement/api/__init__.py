"""HTTP only: the routes parse, call ``app/`` and map its refusals (``problems.py``).
Imported by ``main.py`` only.
"""
