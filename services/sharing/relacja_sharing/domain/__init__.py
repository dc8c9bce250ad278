"""Pure rules of the sharing service (no I/O; mypy strict)."""
