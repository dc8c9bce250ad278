"""Use cases: the projection, the pair statistics, suggestions and evaluations."""
