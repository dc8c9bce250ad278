"""HTTP routes of the tickets service."""
