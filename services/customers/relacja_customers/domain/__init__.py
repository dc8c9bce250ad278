"""Pure rules of the customer master: no I/O, unit-tested without a database."""
