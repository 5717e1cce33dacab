"""Benchmarks of the core write and read paths (`make bench`, `python -m bench`)."""
