"""Benchmarks of the refresher planning job, recording an answer and the review policy.

Run them with `make bench` (or `python -m bench.run [--quick] [--only NAME]`); the figures of
the last full run are in docs/benchmarks.md.
"""
