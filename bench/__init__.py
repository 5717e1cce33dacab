"""Benchmarks and measurements of stockledger (run by tests at small scale, standalone at full scale)."""
