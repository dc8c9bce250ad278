"""Pure rules of the sharing service (no I/O; mypy strict).

identifiers.py  pseudonyms (HMAC-SHA256 per partner, also as SQL) and the API key format
partners.py     the partner's status: active ⇄ suspended
agreements.py   the agreement's state machine, the rules of its terms, fields never shared
reports.py      minimum group size and complementary suppression
states.py       IllegalTransition, shared by the state machines
"""
