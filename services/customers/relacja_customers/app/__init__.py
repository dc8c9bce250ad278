"""Use cases of the customers service: (session, command) -> result, between api/ (HTTP) and domain/ (pure rules)."""
