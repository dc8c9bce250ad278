"""HTTP routes of the customers service (imported by main.py only): parse, call app/, answer."""
