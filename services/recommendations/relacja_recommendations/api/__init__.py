"""HTTP only: parse, call app/, map errors to problems."""
