"""Benchmarks that print figures (never used as timed assertions in tests)."""
