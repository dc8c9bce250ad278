"""Pure rules of the tickets service (no I/O): business time, SLA clocks, the state machine, surveys."""
