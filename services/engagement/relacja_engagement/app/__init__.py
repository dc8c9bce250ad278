"""Use cases of the engagement service: (session, command) → result; they raise the refusals of
``errors.py`` (or the domain's) and write events through ``events.outbox``.
"""
