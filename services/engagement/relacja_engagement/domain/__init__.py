"""Pure rules of the engagement service (no I/O; unit-tested in tests/unit/engagement/).

triggers.py    trigger event kinds, event-level conditions, the once-per-occurrence keys
decision.py    the send-time decision: consent, suppression, frequency cap, quiet hours (defer until)
holdout.py     the deterministic holdout draw (hash of campaign or trigger id + customer id)
uplift.py      treated vs control: conversion and revenue per customer with confidence intervals
templating.py  the sandboxed templates: allowed variables, checks at save time, rendering
zones.py       a customer's time zone from the country of their address
"""
