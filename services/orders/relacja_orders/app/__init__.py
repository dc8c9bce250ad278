"""Use cases of the orders service: (session, command) -> result, between api/ (HTTP) and domain/ (pure rules)."""
