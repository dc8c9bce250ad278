"""Relacja benchmarks (``make bench``): relay throughput, end-to-end latency, idle memory.

Each script starts its own stack (ports 28080/29092/55434/28101/28102, state folder
``.state/bench``; see ``_stack.py``), so it runs beside ``make run`` and ``make test``,
prints its result and stops everything it started. Results are written to
docs/benchmarks.md by hand.
"""
